"""The fast path: one credential report per account instead of several IAM calls per user.

GenerateCredentialReport + GetCredentialReport give password, MFA, key status, key creation and key last
use for every user in two calls. ListAccessKeys is still called, but only for users the report shows
with keys, because the report has no key ids and findings must name the key. GetAccessKeyLastUsed is
skipped: the report already carries last use. https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from iam_inventory.collect.api import get_key_last_use, read_root_state
from iam_inventory.core.budget import Deadline
from iam_inventory.core.retry import (
    THROTTLING_CODES,
    Sleep,
    backoff_delays,
    call_patiently,
    client_error_code,
)
from iam_inventory.models import AccessKey, AccountInventory, IamUser, KeyLastUse

ROOT_ROW = "<root_account>"
# Values the report uses for "no date": N/A (never / no such key), no_information, not_supported.
_NO_VALUE = frozenset({"", "N/A", "no_information", "not_supported"})
_ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
# The report's key creation time and ListAccessKeys' CreateDate are both whole seconds; allow rounding.
_MATCH_TOLERANCE = timedelta(seconds=1)


class ReportUnavailable(Exception):
    """The credential report cannot be used for this account; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ReportKey:
    """One access key column pair (access_key_1 or _2) of a report row."""

    slot: int
    active: bool
    created_at: datetime
    last_used_at: datetime | None
    service: str | None
    region: str | None


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One row of the credential report."""

    user_name: str
    arn: str
    created_at: datetime | None
    password_enabled: bool
    password_last_used: datetime | None
    mfa_active: bool
    keys: tuple[ReportKey, ...]

    @property
    def path(self) -> str:
        """The user's IAM path, read from its ARN (arn:aws:iam::123:user/path/name)."""
        resource = self.arn.split(":", 5)[-1]
        return resource.removeprefix("user")[: -len(self.user_name)] or "/"


@dataclass(frozen=True, slots=True)
class CredentialReport:
    """A parsed credential report."""

    generated_at: datetime
    users: tuple[ReportRow, ...]
    root: ReportRow | None


def parse_report_time(value: str | None) -> datetime | None:
    """A report timestamp as an aware UTC datetime; None for N/A, no_information and not_supported."""
    if value is None or value.strip() in _NO_VALUE:
        return None
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: str | None) -> str | None:
    return None if value is None or value.strip() in _NO_VALUE else value.strip()


def _row_keys(row: dict[str, str]) -> tuple[ReportKey, ...]:
    keys = []
    for slot in (1, 2):
        created_at = parse_report_time(row.get(f"access_key_{slot}_last_rotated"))
        # last_rotated is N/A exactly when the slot holds no key.
        if created_at is None:
            continue
        keys.append(
            ReportKey(
                slot=slot,
                active=row.get(f"access_key_{slot}_active") == "true",
                created_at=created_at,
                # Older reports and some tools name the column access_key_N_last_used.
                last_used_at=parse_report_time(
                    row.get(f"access_key_{slot}_last_used_date", row.get(f"access_key_{slot}_last_used"))
                ),
                service=_text(row.get(f"access_key_{slot}_last_used_service")),
                region=_text(row.get(f"access_key_{slot}_last_used_region")),
            )
        )
    return tuple(keys)


def parse_credential_report(content: bytes | str, generated_at: datetime) -> CredentialReport:
    """Parse the report CSV; the root row is kept apart from the users."""
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    users: list[ReportRow] = []
    root: ReportRow | None = None
    for row in csv.DictReader(io.StringIO(text)):
        parsed = ReportRow(
            user_name=row["user"],
            arn=row["arn"],
            created_at=parse_report_time(row.get("user_creation_time")),
            password_enabled=row.get("password_enabled") == "true",
            password_last_used=parse_report_time(row.get("password_last_used")),
            mfa_active=row.get("mfa_active") == "true",
            keys=_row_keys(row),
        )
        if parsed.user_name == ROOT_ROW:
            root = parsed
        else:
            users.append(parsed)
    return CredentialReport(
        generated_at=generated_at if generated_at.tzinfo else generated_at.replace(tzinfo=UTC),
        users=tuple(users),
        root=root,
    )


def fetch_credential_report(
    iam: BaseClient,
    deadline: Deadline,
    sleep: Sleep = time.sleep,
    delay: Callable[[int], float] | None = None,
) -> CredentialReport:
    """Generate (or reuse, when under 4 hours old) the report and download it, polling with backoff."""
    delay = delay or backoff_delays(base=0.5, cap=4.0)
    attempt = 0
    generate = True
    while True:
        try:
            if generate:
                # COMPLETE means a report under 4 hours old exists: AWS hands that one back.
                iam.generate_credential_report()
                generate = False
            response = iam.get_credential_report()
            return parse_credential_report(response["Content"], response["GeneratedTime"])
        except ClientError as error:
            code = client_error_code(error)
            if code in _ACCESS_DENIED_CODES:
                raise ReportUnavailable(f"credential report not permitted ({code})") from None
            if code in {"ReportNotPresent", "ReportExpired"}:
                generate = True
            elif code not in {"ReportInProgress", "LimitExceeded", *THROTTLING_CODES}:
                raise
            wait = delay(attempt)
            if deadline.remaining() <= wait:
                raise ReportUnavailable(f"credential report not ready in time ({code})") from None
        sleep(wait)
        attempt += 1


def list_key_metadata(iam: BaseClient, user_name: str, deadline: Deadline) -> list[dict[str, Any]] | None:
    """The user's keys (at most two, so one page); None when the user was deleted after the report."""
    try:
        response = call_patiently(lambda: iam.list_access_keys(UserName=user_name), deadline)
    except iam.exceptions.NoSuchEntityException:
        return None
    return list(response["AccessKeyMetadata"])


def match_keys(
    metadata: Sequence[dict[str, Any]],
    columns: Sequence[ReportKey],
    last_use_of: Callable[[str], KeyLastUse],
) -> tuple[AccessKey, ...]:
    """Pair listed keys with report columns by creation time; keys newer than the report ask the API."""
    remaining = list(columns)
    keys = []
    for item in sorted(metadata, key=lambda entry: entry["CreateDate"]):
        created_at = item["CreateDate"]
        column = next(
            (column for column in remaining if abs(column.created_at - created_at) <= _MATCH_TOLERANCE),
            None,
        )
        if column is None:
            last_use = last_use_of(item["AccessKeyId"])
        else:
            remaining.remove(column)
            last_use = KeyLastUse(used_at=column.last_used_at, service=column.service, region=column.region)
        keys.append(
            AccessKey(
                access_key_id=item["AccessKeyId"],
                # ListAccessKeys is current; the report may be hours old.
                status=item["Status"],
                created_at=created_at,
                last_use=last_use,
            )
        )
    return tuple(keys)


def collect_account_from_report(
    iam: BaseClient,
    account_id: str,
    now: datetime,
    report: CredentialReport,
    concurrency: int,
    deadline: Deadline,
) -> AccountInventory:
    """Build the account inventory from the report plus ListAccessKeys for users that have keys."""
    with_keys = [row for row in report.users if row.keys]

    def list_keys(row: ReportRow) -> list[dict[str, Any]] | None:
        return list_key_metadata(iam, row.user_name, deadline)

    if concurrency > 1 and len(with_keys) > 1:
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="keys") as pool:
            found = list(pool.map(list_keys, with_keys))
    else:
        found = [list_keys(row) for row in with_keys]
    listed = dict(zip((row.user_name for row in with_keys), found, strict=True))
    users = []
    for row in report.users:
        metadata = listed.get(row.user_name, [])
        if metadata is None:
            continue
        keys = match_keys(
            metadata, row.keys, lambda key_id: call_patiently(lambda: get_key_last_use(iam, key_id), deadline)
        )
        users.append(
            IamUser(
                user_name=row.user_name,
                user_id="",  # not in the credential report (see docs): only ListUsers has it
                arn=row.arn,
                path=row.path,
                created_at=row.created_at or report.generated_at,
                console_access=row.password_enabled,
                password_last_used=row.password_last_used,
                mfa_enabled=row.mfa_active if row.password_enabled else False,
                access_keys=keys,
            )
        )
    if report.root is not None:
        root_keys, root_mfa = bool(report.root.keys), report.root.mfa_active
    else:
        # Real reports always carry the root row; without it, ask the account summary (one more call).
        root_keys, root_mfa = call_patiently(lambda: read_root_state(iam), deadline)
    return AccountInventory(
        account_id=account_id,
        users=tuple(users),
        root_access_keys_present=root_keys,
        root_mfa_enabled=root_mfa,
        collected_at=now,
    )
