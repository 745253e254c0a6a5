"""The IAM credential report: fetch it (generating when needed) and parse it.

GenerateCredentialReport answers STARTED when it starts a new report and COMPLETE when a report under
4 hours old exists, which it hands back instead of generating another; GetCredentialReport then fails
ReportInProgress while generating, ReportNotPresent before any report, ReportExpired after 4 hours.
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GenerateCredentialReport.html
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetCredentialReport.html
So a COMPLETE answer means the report predates this run, possibly by hours: `generated_by_run` says
which case holds, and the collector verifies report-based findings live only when it is False.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from iam_inventory.collect.calls import ACCESS_DENIED_CODES
from iam_inventory.core.budget import Deadline
from iam_inventory.core.retry import THROTTLING_CODES, Sleep, backoff_delays, client_error_code

ROOT_ROW = "<root_account>"
# Values the report uses for "no date": N/A (never / no such key), no_information, not_supported.
_NO_VALUE = frozenset({"", "N/A", "no_information", "not_supported"})


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
    password_changed_at: datetime | None = None

    @property
    def path(self) -> str:
        """The user's IAM path, read from its ARN (arn:aws:iam::123:user/path/name)."""
        resource = self.arn.split(":", 5)[-1]
        return resource.removeprefix("user")[: -len(self.user_name)] or "/"


@dataclass(frozen=True, slots=True)
class CredentialReport:
    """A parsed credential report; `generated_by_run` is True when this run's request generated it."""

    generated_at: datetime
    users: tuple[ReportRow, ...]
    root: ReportRow | None
    generated_by_run: bool = False


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


def parse_credential_report(
    content: bytes | str, generated_at: datetime, generated_by_run: bool = False
) -> CredentialReport:
    """Parse the report CSV; the root row is kept apart from the users."""
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    users: list[ReportRow] = []
    root: ReportRow | None = None
    for row in csv.DictReader(io.StringIO(text)):
        password_enabled = row.get("password_enabled") == "true"
        parsed = ReportRow(
            user_name=row["user"],
            arn=row["arn"],
            created_at=parse_report_time(row.get("user_creation_time")),
            password_enabled=password_enabled,
            password_last_used=parse_report_time(row.get("password_last_used")),
            mfa_active=row.get("mfa_active") == "true",
            keys=_row_keys(row),
            password_changed_at=parse_report_time(row.get("password_last_changed"))
            if password_enabled
            else None,
        )
        if parsed.user_name == ROOT_ROW:
            root = parsed
        else:
            users.append(parsed)
    return CredentialReport(
        generated_at=generated_at if generated_at.tzinfo else generated_at.replace(tzinfo=UTC),
        users=tuple(users),
        root=root,
        generated_by_run=generated_by_run,
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
    generated_by_run = False
    while True:
        try:
            if generate:
                state = iam.generate_credential_report().get("State")
                # STARTED: this request generates the report, so it reflects IAM as of this run.
                generated_by_run = state == "STARTED"
                generate = False
            response = iam.get_credential_report()
            return parse_credential_report(response["Content"], response["GeneratedTime"], generated_by_run)
        except ClientError as error:
            code = client_error_code(error)
            if code in ACCESS_DENIED_CODES:
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
