"""Plain data passed between the stages: discover -> assume -> collect -> evaluate -> publish."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# Re-exported: the credential kinds are part of the plain data every stage passes.
from iam_inventory.models.credentials import CredentialType as CredentialType
from iam_inventory.models.credentials import ServiceCredential as ServiceCredential
from iam_inventory.models.credentials import SigningCertificate as SigningCertificate
from iam_inventory.models.credentials import SshPublicKey as SshPublicKey


class AccountStatus(StrEnum):
    """Outcome of one account in a run."""

    SCANNED = "scanned"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_SCANNED = "not_scanned"


class CollectionPath(StrEnum):
    """How an account's credentials data was read."""

    CREDENTIAL_REPORT = "credential_report"
    API = "api"
    # The spoke role lacks iam:GetAccountAuthorizationDetails (an older spoke stack): users were listed
    # with ListUsers (+ ListUserTags per user when tags are wanted), and the account carries a warning.
    CREDENTIAL_REPORT_LIST_USERS = "credential_report+list_users"
    API_LIST_USERS = "api+list_users"


class Severity(StrEnum):
    """Finding severity, ordered from most to least urgent in SEVERITY_ORDER."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


SEVERITY_ORDER: tuple[Severity, ...] = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)


@dataclass(frozen=True, slots=True)
class Account:
    """An account to inventory, as discovery found it."""

    account_id: str
    name: str = ""
    # Where the account sits in AWS Organizations, e.g. "Root/Workloads/Prod"; "" for a static list.
    ou_path: str = ""
    # The account's Organizations tags, kept when an owner tag is configured (the owner's second source).
    tags: dict[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class KeyLastUse:
    """Last use of an access key; `used_at` is None when AWS has never seen it used."""

    used_at: datetime | None
    service: str | None = None
    region: str | None = None

    @property
    def never_used(self) -> bool:
        """True when the key has no recorded use."""
        return self.used_at is None


@dataclass(frozen=True, slots=True)
class AccessKey:
    """One IAM access key (the id is an identifier, never the secret)."""

    access_key_id: str
    status: str  # "Active" | "Inactive", as IAM spells it
    created_at: datetime
    last_use: KeyLastUse
    # True when `last_use` came from the credential report (possibly hours old), not GetAccessKeyLastUsed.
    last_use_from_report: bool = False

    @property
    def active(self) -> bool:
        """True for an Active key."""
        return self.status == "Active"


@dataclass(frozen=True, slots=True)
class AttachedPolicy:
    """A managed policy attached directly to a user."""

    policy_name: str
    policy_arn: str


@dataclass(frozen=True, slots=True)
class InlinePolicy:
    """An inline user policy; `document` is the policy JSON (canonical, sorted keys)."""

    policy_name: str
    document: str


@dataclass(frozen=True, slots=True)
class IamUser:
    """One IAM user with its credentials' state."""

    user_name: str
    user_id: str
    arn: str
    path: str
    created_at: datetime
    console_access: bool
    password_last_used: datetime | None
    mfa_enabled: bool
    access_keys: tuple[AccessKey, ...] = ()
    # Only the configured routing keys (USER_TAG_KEYS), e.g. owner and team; excluded from the hash.
    tags: dict[str, str] = field(default_factory=dict, hash=False)
    # True when console, password last use and MFA came from the credential report, not live calls.
    console_from_report: bool = False
    # When the console password was last set: the report's password_last_changed. None when unknown (the
    # API path: GetLoginProfile's CreateDate is the profile's creation, older than any reset).
    password_changed_at: datetime | None = None
    groups: tuple[str, ...] = ()
    attached_policies: tuple[AttachedPolicy, ...] = ()
    inline_policies: tuple[InlinePolicy, ...] = ()
    # Admin-equivalent access (evaluate.privilege), directly or through a group, with the first reason.
    privileged: bool = False
    privileged_reason: str = ""
    service_credentials: tuple[ServiceCredential, ...] = ()
    ssh_public_keys: tuple[SshPublicKey, ...] = ()
    signing_certificates: tuple[SigningCertificate, ...] = ()
    # False when ListSSHPublicKeys was not called (the user cannot use CodeCommit, or AccessDenied).
    ssh_keys_read: bool = False


@dataclass(frozen=True, slots=True)
class AccountInventory:
    """Everything collected from one spoke account."""

    account_id: str
    users: tuple[IamUser, ...]
    root_access_keys_present: bool
    root_mfa_enabled: bool
    collected_at: datetime
    # True when the root row came from the credential report rather than GetAccountSummary.
    root_from_report: bool = False
    # GetAccountSummary's AccountPasswordPresent: whether root can sign in with a password. None when not
    # read (the report cannot tell, and root has MFA, so no rule needs it).
    root_password_present: bool | None = None
    # Root has no password, access key, signing certificate or MFA device (e.g. deleted through AWS
    # Organizations' centralized root access): a state to show, not a finding.
    root_credentials_removed: bool = False
    root_signing_certificate_active: bool = False
    # Credential kinds the spoke role could not read (an older spoke stack answered AccessDenied).
    unreadable_credential_kinds: tuple[CredentialType, ...] = ()


@dataclass(frozen=True, slots=True)
class AccountResult:
    """The outcome of scanning one account: its inventory, or why there is none."""

    account: Account
    status: AccountStatus
    inventory: AccountInventory | None = None
    error_code: str | None = None
    error_message: str | None = None
    duration_ms: int = 0
    api_calls: int = 0
    retried_calls: int = 0
    collection_path: CollectionPath | None = None
    # When the credential report was generated: its data can be up to 4 hours older than the run.
    report_generated_at: datetime | None = None
    # Calls made to confirm report-based candidates live (included in api_calls).
    verification_calls: int = 0
    # Things the report should show about how the account was read (e.g. an older spoke stack).
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Day thresholds the rules compare against."""

    max_key_age_days: int = 90
    unused_key_days: int = 45
    never_used_grace_days: int = 7
    # The longest lifetime (expiry - creation) an API key (Bedrock, CloudWatch Logs) may be given.
    max_api_key_lifetime_days: int = 90


@dataclass(frozen=True, slots=True)
class Finding:
    """One risky condition found in an account."""

    finding_id: str
    rule_id: str
    severity: Severity
    cis_control: str
    account_id: str
    user_name: str | None
    access_key_id: str | None
    measured_value: int
    threshold: int
    unit: str
    message: str
    # The user's routing tags (owner, team...), so a finding can be handed to whoever owns the user.
    tags: dict[str, str] = field(default_factory=dict, hash=False)
    # True when the evidence was read live from IAM in this run; False when it came from the credential
    # report (which this run generated, or which was confirmed fresh enough not to need a check).
    verified_live: bool = True
    # The id of the credential the finding is about when it is not an access key (service-specific
    # credential, SSH key, signing certificate); access key findings keep it in access_key_id.
    credential_id: str | None = None


@dataclass(frozen=True, slots=True)
class RunContext:
    """Identity and options of one run, fixed before any account is touched."""

    run_id: str
    started_at: datetime
    dry_run: bool
    thresholds: Thresholds
    role_name: str
    role_path: str
    trigger: str
    # Where the account list came from: "event", "static", "ssm" or "organizations".
    account_source: str = "static"
    user_tag_keys: tuple[str, ...] = ()
    # The event asked for this run to become the baseline (`"baseline": true`).
    baseline_requested: bool = False
    # What the event overrode ("accounts", "thresholds"): such a run is published under manual/.
    overrides: tuple[str, ...] = ()


@dataclass(slots=True)
class RunResult:
    """A run held in memory (tests, `report`): what finalize would stream, gathered in one object."""

    context: RunContext
    accounts: list[AccountResult]
    findings: list[Finding]
    finished_at: datetime
