"""Describe a fake AWS estate (accounts, users, keys) and seed it into the simulator.

Each spec carries the findings a correct scan must report for it (`expect`), written by hand from the
rules' definitions, so tests and the demo can compare what the job finds with what was planted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

HUB_ACCOUNT_ID = "123456789012"  # moto's default account: the hub's own credentials land here
DEMO_EXTERNAL_ID = "demo-external-id-7f3a9c"


@dataclass(frozen=True, slots=True)
class KeySpec:
    """An access key: age, days since last use (None: never used), status, expected key findings."""

    age_days: int
    last_used_days: int | None = None
    active: bool = True
    service: str = "s3"
    expect: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ServiceCredentialSpec:
    """A service-specific credential: service, age, and an API key's lifetime (None: never expires)."""

    service: str  # "bedrock.amazonaws.com", "logs.amazonaws.com", "codecommit.amazonaws.com", ...
    age_days: int
    lifetime_days: int | None = None
    active: bool = True
    expect: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class UploadSpec:
    """An SSH public key or a signing certificate: how long ago it was uploaded, its status."""

    age_days: int
    active: bool = True
    expect: frozenset[str] = frozenset()


# An inline policy that lets a user use CodeCommit over git (what makes its SSH keys worth reading).
CODECOMMIT_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["codecommit:GitPull", "codecommit:GitPush"], "Resource": "*"}
    ],
}


@dataclass(frozen=True, slots=True)
class UserSpec:
    """An IAM user: console and MFA state, keys, tags, and user-level expected findings."""

    name: str
    path: str = "/"
    console: bool = False
    mfa: bool = False
    keys: tuple[KeySpec, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    expect: frozenset[str] = frozenset()
    # Days since the console password was last used; None: never signed in (password set at seeding).
    password_used_days: int | None = None
    # Member of the group "admins", whose customer-managed policy allows "*" on "*" (privileged).
    admin: bool = False
    # AWS managed policies attached to the user directly, by name ("AdministratorAccess", ...).
    aws_policies: tuple[str, ...] = ()
    # Inline policies by name: the policy document each holds.
    inline_policies: dict[str, dict] = field(default_factory=dict)
    service_credentials: tuple[ServiceCredentialSpec, ...] = ()
    ssh_keys: tuple[UploadSpec, ...] = ()
    signing_certificates: tuple[UploadSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """A spoke account and how its role is set up (`ok`, `missing`, `wrong_external_id`).

    `ou`, `tags` and `state` matter only when the estate is also seeded as an organization:
    `ou` is the OU path below the root ("Workloads/Prod"; "" = directly under the root).
    """

    account_id: str
    name: str
    users: tuple[UserSpec, ...] = ()
    root_access_key: bool = False
    # Root MFA on by default, so estates only plant root_mfa_disabled where they mean to.
    root_mfa: bool = True
    # Root has a password (can sign in) unless False; root_mfa_disabled needs one.
    root_password: bool = True
    # Root credentials deleted centrally (AWS Organizations): no password, keys, certificates or MFA,
    # whatever root_mfa, root_password and root_access_key say. A state, never a finding.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#id_root-user-access-management
    root_credentials_removed: bool = False
    # Days since the root user's signing certificate was uploaded; None: root has none.
    root_signing_certificate_days: int | None = None
    role: str = "ok"
    ou: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    state: str = "ACTIVE"  # or "SUSPENDED"

    @property
    def reachable(self) -> bool:
        """True when the hub can assume the spoke role (and would try: the account is active)."""
        return self.role == "ok" and self.state == "ACTIVE"


ExpectedFinding = tuple[str, str | None, str | None, str]
# (account, user, index) -> access key id; (account, user, "service:N" | "ssh:N" | "cert:N") -> the
# id of the user's Nth planted service credential, SSH key or signing certificate.
PlantedIds = dict[tuple[str, str, int | str], str]


def expected_findings(accounts: Iterable[AccountSpec], key_ids: PlantedIds) -> set[ExpectedFinding]:
    """(account, user, access key id, rule) for every finding the estate was seeded to produce."""
    expected: set[ExpectedFinding] = set()
    for account in accounts:
        if not account.reachable:
            continue
        if account.root_access_key and not account.root_credentials_removed:
            expected.add((account.account_id, None, None, "root_access_key_present"))
        if not account.root_mfa and account.root_password and not account.root_credentials_removed:
            expected.add((account.account_id, None, None, "root_mfa_disabled"))
        if account.root_signing_certificate_days is not None and not account.root_credentials_removed:
            expected.add((account.account_id, None, None, "root_signing_certificate_active"))
        for user in account.users:
            expected.update((account.account_id, user.name, None, rule) for rule in user.expect)
            for index, key in enumerate(user.keys):
                key_id = key_ids[(account.account_id, user.name, index)]
                expected.update((account.account_id, user.name, key_id, rule) for rule in key.expect)
            planted = (
                ("service", user.service_credentials),
                ("ssh", user.ssh_keys),
                ("cert", user.signing_certificates),
            )
            for kind, specs in planted:
                for index, spec in enumerate(specs):
                    credential_id = key_ids[(account.account_id, user.name, f"{kind}:{index}")]
                    expected.update(
                        (account.account_id, user.name, credential_id, rule) for rule in spec.expect
                    )
    return expected


def spoke_trust_policy(hub_principal: str, external_id: str | None) -> dict:
    """The spoke role's trust policy: only the hub may assume it, with the ExternalId."""
    statement: dict = {"Effect": "Allow", "Principal": {"AWS": hub_principal}, "Action": "sts:AssumeRole"}
    if external_id:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return {"Version": "2012-10-17", "Statement": [statement]}
