"""One validated settings object, built once at start from environment variables (and SSM)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from iam_inventory.config.concurrency import MAX_POOL, account_pool_size
from iam_inventory.config.filters import AccountFilters, split_tag
from iam_inventory.config.thresholds import ThresholdSettings
from iam_inventory.config.validation import (
    ACCOUNT_ID_PATTERN,
    ACCOUNT_TAG_PATTERN,
    OU_ID_PATTERN,
    ROLE_ARN_PATTERN,
    ROLE_NAME_PATTERN,
    ROLE_PATH_PATTERN,
    S3_URI_PATTERN,
    SECRET_VARIABLES,
    describe_validation_error,
)
from iam_inventory.core.errors import IamInventoryError
from iam_inventory.evaluate.owners import OwnerConfig
from iam_inventory.evaluate.sla import SlaPolicy, parse_sla_days


class ConfigError(IamInventoryError, ValueError):
    """Configuration is invalid; the message names the variable and what is wrong."""


class AccountSource(StrEnum):
    """Where the list of accounts comes from."""

    STATIC = "static"
    ORGANIZATIONS = "organizations"


class CollectionMode(StrEnum):
    """Which collection path to use: the credential report (falling back to the API) or the API only."""

    AUTO = "auto"
    API = "api"


class RetryMode(StrEnum):
    """botocore retry modes we allow (legacy is not one of them)."""

    STANDARD = "standard"
    ADAPTIVE = "adaptive"


AccountId = Annotated[str, Field(pattern=ACCOUNT_ID_PATTERN)]
OrganizationalUnitId = Annotated[str, Field(pattern=OU_ID_PATTERN)]
AccountTag = Annotated[str, Field(pattern=ACCOUNT_TAG_PATTERN)]
# IAM tag keys: 1-128 of letters, digits, spaces and _.:/=+-@
TagKey = Annotated[str, Field(pattern=r"^[\w .:/=+@-]+$", max_length=128)]
RoleName = Annotated[str, Field(pattern=ROLE_NAME_PATTERN)]
NonEmpty = Annotated[str, Field(min_length=1)]


class Settings(ThresholdSettings):
    """Validated configuration; field aliases are the environment variable names (thresholds first)."""

    model_config = ConfigDict(
        frozen=True, populate_by_name=True, extra="ignore", use_attribute_docstrings=True
    )

    account_source: AccountSource = Field(AccountSource.STATIC, alias="ACCOUNT_SOURCE")
    """`static` (a list of ids) or `organizations` (every account AWS Organizations lists, filtered below)."""
    account_ids: tuple[AccountId, ...] = Field((), alias="ACCOUNT_IDS")
    """Comma or space separated 12-digit account ids (static source)."""
    account_ids_parameter: str | None = Field(None, alias="ACCOUNT_IDS_PARAMETER", min_length=1)
    """Name of an SSM String/StringList parameter holding the ids (exclusive with ACCOUNT_IDS)."""
    organization_reader_role_arn: str | None = Field(
        None, alias="ORGANIZATION_READER_ROLE_ARN", pattern=ROLE_ARN_PATTERN
    )
    """Role assumed for Organizations calls when the hub is neither management nor delegated admin."""
    include_ous: tuple[OrganizationalUnitId, ...] = Field((), alias="INCLUDE_OUS")
    """OU ids (`ou-...`) or the root id (`r-...`): only accounts under them, at any depth."""
    exclude_ous: tuple[OrganizationalUnitId, ...] = Field((), alias="EXCLUDE_OUS")
    """Accounts under these OUs, at any depth, are skipped (`ExcludedOU`)."""
    exclude_accounts: tuple[AccountId, ...] = Field((), alias="EXCLUDE_ACCOUNTS")
    """These account ids are skipped (`ExcludedAccount`)."""
    include_account_tags: tuple[AccountTag, ...] = Field((), alias="INCLUDE_ACCOUNT_TAGS")
    """Comma-separated `key=value`: an account needs at least one, otherwise it is skipped."""
    exclude_account_tags: tuple[AccountTag, ...] = Field((), alias="EXCLUDE_ACCOUNT_TAGS")
    """An account with any of these `key=value` tags is skipped; exclusion beats inclusion."""
    scan_hub_account: bool = Field(False, alias="SCAN_HUB_ACCOUNT")
    """Scan the hub's own account when Organizations lists it (it then needs the spoke role too)."""
    role_name: str = Field("IAMListRole", alias="ROLE_NAME", pattern=ROLE_NAME_PATTERN)
    """Name of the spoke role the hub assumes in every account."""
    role_path: str = Field("/", alias="ROLE_PATH", pattern=ROLE_PATH_PATTERN, max_length=512)
    """Path of the spoke role, e.g. `/security/`."""
    external_id_parameter: str | None = Field(None, alias="EXTERNAL_ID_PARAMETER", min_length=1)
    """Name of the SSM SecureString holding the ExternalId; unset means no ExternalId is sent."""
    external_id: str | None = Field(
        None, alias="EXTERNAL_ID", min_length=2, max_length=1224, pattern=r"^[\w+=,.@:/-]+$", repr=False
    )
    """The ExternalId itself, for CLI runs only: refused in Lambda (use EXTERNAL_ID_PARAMETER there)."""
    report_bucket: str | None = Field(
        None, alias="REPORT_BUCKET", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
    )
    """Bucket for the report; required unless the run is a dry run (the CLI can use `--out` instead)."""
    report_prefix: str = Field("iam-inventory", alias="REPORT_PREFIX", pattern=r"^[\w!.*'()/-]{0,200}$")
    """Key prefix of everything the job writes."""
    workers: int = Field(0, alias="WORKERS", ge=0, le=MAX_POOL)
    """Accounts scanned at once; 0 sizes the pool to the estate and the Lambda memory (see performance.md)."""
    lambda_memory_mb: int | None = Field(None, alias="AWS_LAMBDA_FUNCTION_MEMORY_SIZE", ge=128, le=10240)
    """Set by Lambda: the function's memory, which sizes the default account pool (CPU scales with it)."""
    retry_mode: RetryMode = Field(RetryMode.ADAPTIVE, alias="RETRY_MODE")
    """botocore retry mode: `standard`, or `adaptive` (client-side rate limiting when throttled)."""
    max_attempts: int = Field(8, alias="MAX_ATTEMPTS", ge=1, le=20)
    """botocore attempts per call, the first included."""
    connect_timeout_seconds: float = Field(5.0, alias="CONNECT_TIMEOUT_SECONDS", gt=0, le=60)
    """Connect timeout per request."""
    read_timeout_seconds: float = Field(20.0, alias="READ_TIMEOUT_SECONDS", gt=0, le=300)
    """Read timeout per request."""
    collection_mode: CollectionMode = Field(CollectionMode.AUTO, alias="COLLECTION_MODE")
    """`auto`: the credential report, with a per-account API fallback; `api`: per-user API calls only."""
    account_concurrency: int = Field(4, alias="ACCOUNT_CONCURRENCY", ge=1, le=16)
    """Concurrent IAM calls inside one account (IAM throttles per account)."""
    report_wait_seconds: float = Field(60.0, alias="CREDENTIAL_REPORT_WAIT_SECONDS", gt=0, le=600)
    """How long to wait for a credential report being generated before using the API path."""
    publish_reserve_seconds: float = Field(30.0, alias="PUBLISH_RESERVE_SECONDS", ge=0, le=300)
    """Lambda time kept free at the end for writing the report and metrics."""
    account_grace_seconds: float = Field(20.0, alias="ACCOUNT_GRACE_SECONDS", ge=0, le=300)
    """No account starts with less time than this left."""
    region: str = Field("us-east-1", alias="AWS_REGION", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    """Region of the hub's clients and of the regional STS endpoint (Lambda sets it)."""
    running_in_lambda: bool = Field(False, alias="AWS_LAMBDA_FUNCTION_NAME")
    """Set by Lambda: its presence means running in Lambda (EXTERNAL_ID is then refused)."""
    user_tag_keys: tuple[TagKey, ...] = Field(("owner", "team"), alias="USER_TAG_KEYS", max_length=20)
    """User tag keys carried into every output (up to 20); `none` switches ListUserTags off."""
    console_role_name: str | None = Field(None, alias="CONSOLE_ROLE_NAME", pattern=ROLE_NAME_PATTERN)
    """Role named in the HTML report's console switch-role links (default: the spoke role)."""
    notify_topic_arn: str | None = Field(
        None, alias="NOTIFY_TOPIC_ARN", pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$"
    )
    """SNS topic for a summary of new high and critical findings."""
    security_hub_export: bool = Field(False, alias="SECURITY_HUB_EXPORT")
    """Import each account's findings into that account's Security Hub, through its import role."""
    import_role_name: RoleName = Field("IAMInventoryFindingsImportRole", alias="FINDINGS_IMPORT_ROLE_NAME")
    """Spoke role (path ROLE_PATH) that may only import findings and set their workflow in Security Hub."""
    history_runs: int = Field(30, alias="HISTORY_RUNS", ge=1, le=365)
    """Run summaries kept in history.json for the trend chart."""
    per_account_metrics: bool = Field(False, alias="PER_ACCOUNT_METRICS")
    """Also publish per-account metrics (AccountId dimension: ~4 custom metrics per account, billed)."""
    owner_tag_keys: tuple[TagKey, ...] = Field(("owner",), alias="OWNER_TAG_KEYS", max_length=20)
    """User tag keys that name a finding's owner, tried in order."""
    ou_owners: dict[NonEmpty, NonEmpty] = Field(default_factory=dict, alias="OU_OWNERS")
    """JSON map of OU path to owner, e.g. {"Root/Workloads": "team-x"}; the longest matching prefix wins."""
    sla_days: dict[str, Any] = Field(default_factory=dict, alias="SLA_DAYS")
    """JSON map of severity to days before a finding is overdue (default 7, 30, 90, 180: critical to low)."""
    exceptions_s3_uri: str | None = Field(None, alias="EXCEPTIONS_S3_URI", pattern=S3_URI_PATTERN)
    """s3://bucket/key of the risk exceptions file (docs/remediation.md)."""
    exceptions_parameter: str | None = Field(None, alias="EXCEPTIONS_PARAMETER", min_length=1)
    """SSM parameter holding the risk exceptions file (instead of EXCEPTIONS_S3_URI)."""
    remediation_wait_days: int = Field(14, alias="REMEDIATION_WAIT_DAYS", ge=1, le=365)
    """Days a remediation plan waits between deactivating a key and deleting it."""
    carry_over_runs: int = Field(3, alias="CARRY_OVER_RUNS", ge=0, le=100)
    """Runs a finding of an account that could not be scanned is carried over before it expires."""
    max_failed_fraction: float = Field(0.5, alias="MAX_FAILED_FRACTION", ge=0, le=1)
    """A run is `failed` when more than this fraction of its in-scope accounts failed or were not scanned."""

    @field_validator("account_ids", "include_ous", "exclude_ous", "exclude_accounts", mode="before")
    @classmethod
    def _split_account_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in re.split(r"[,\s]+", value) if part.strip())
        return value

    @field_validator("ou_owners", "sla_days", mode="before")
    @classmethod
    def _json_object(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as error:
                raise ValueError(f"must be a JSON object ({error.msg})") from None
        return value

    @field_validator("sla_days")
    @classmethod
    def _valid_sla(cls, value: dict[str, Any]) -> dict[str, Any]:
        parse_sla_days(value)  # raises a ValueError naming the severity
        return value

    @field_validator("user_tag_keys", "owner_tag_keys", mode="before")
    @classmethod
    def _split_tag_keys(cls, value: Any) -> Any:
        # "none" switches tag collection off (an empty variable means "use the default").
        if isinstance(value, str):
            if value.strip().lower() == "none":
                return ()
            return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
        return value

    @field_validator("include_account_tags", "exclude_account_tags", mode="before")
    @classmethod
    def _split_tags(cls, value: Any) -> Any:
        # Tag values may contain spaces, so only commas separate key=value pairs.
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("running_in_lambda", mode="before")
    @classmethod
    def _present_means_lambda(cls, value: Any) -> bool:
        return bool(value)

    @field_validator("role_path")
    @classmethod
    def _no_double_slash(cls, value: str) -> str:
        if "//" in value:
            raise ValueError("must not contain '//'")
        return value

    @field_validator("report_prefix")
    @classmethod
    def _normalise_prefix(cls, value: str) -> str:
        return value.strip("/")

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.account_ids and self.account_ids_parameter:
            raise ValueError("ACCOUNT_IDS and ACCOUNT_IDS_PARAMETER are exclusive: set one")
        if self.external_id and self.external_id_parameter:
            raise ValueError("EXTERNAL_ID and EXTERNAL_ID_PARAMETER are exclusive: set one")
        if self.external_id and self.running_in_lambda:
            raise ValueError(
                "EXTERNAL_ID must not be a plain environment value in Lambda: "
                "store it as an SSM SecureString and set EXTERNAL_ID_PARAMETER"
            )
        if self.exceptions_s3_uri and self.exceptions_parameter:
            raise ValueError("EXCEPTIONS_S3_URI and EXCEPTIONS_PARAMETER are exclusive: set one")
        overlap = set(self.include_ous) & set(self.exclude_ous)
        if overlap:
            raise ValueError(f"INCLUDE_OUS and EXCLUDE_OUS both name {sorted(overlap)}")
        if self.never_used_grace_days >= self.max_key_age_days:
            raise ValueError("NEVER_USED_GRACE_DAYS must be smaller than MAX_KEY_AGE_DAYS")
        return self

    @property
    def owner_config(self) -> OwnerConfig:
        """Owner resolution (tag keys, OU map) as plain data."""
        return OwnerConfig(tag_keys=self.owner_tag_keys, ou_owners=dict(self.ou_owners))

    @property
    def sla_policy(self) -> SlaPolicy:
        """The SLA per severity, defaults filled in."""
        return parse_sla_days(self.sla_days)

    @property
    def account_filters(self) -> AccountFilters:
        """The Organizations discovery filters as plain data."""
        return AccountFilters(
            include_ous=self.include_ous,
            exclude_ous=frozenset(self.exclude_ous),
            exclude_accounts=frozenset(self.exclude_accounts),
            include_tags=frozenset(split_tag(tag) for tag in self.include_account_tags),
            exclude_tags=frozenset(split_tag(tag) for tag in self.exclude_account_tags),
            scan_hub_account=self.scan_hub_account,
        )

    def account_pool(self, accounts: int, cpus: int) -> int:
        """Accounts to scan at once: WORKERS when set, else sized to the estate, memory and CPUs."""
        if self.workers:
            return min(self.workers, max(1, accounts))
        return account_pool_size(accounts, self.lambda_memory_mb, cpus)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from an environment mapping; raise ConfigError naming the bad variable."""
        known = {field.alias for field in cls.model_fields.values() if field.alias}
        values = {name: value for name, value in environ.items() if name in known and value != ""}
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            detail = describe_validation_error(error, "environment variable", SECRET_VARIABLES)
            raise ConfigError(f"invalid configuration: {detail}") from None
