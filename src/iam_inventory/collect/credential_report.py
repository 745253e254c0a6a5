"""The IAM credential report: fetch it (generating when needed) and parse it.

GenerateCredentialReport answers STARTED when it starts a new report and COMPLETE when a report under
4 hours old exists, which it hands back instead of generating another; GetCredentialReport then fails
ReportInProgress while generating, ReportNotPresent before any report, ReportExpired after 4 hours.
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GenerateCredentialReport.html
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetCredentialReport.html
So a COMPLETE answer means the report predates this run, possibly by hours: `generated_by_run` says
which case holds, and the collector verifies report-based findings live only when it is False. STARTED
alone is not trusted: the report also needs a GeneratedTime at or after the run's start (less
CLOCK_SKEW), else it is treated as a cached one and verified.

AWS documents the columns but not the CSV quoting, and IAM allows commas in user names (the UserName
pattern admits ","; https://docs.aws.amazon.com/IAM/latest/APIReference/API_User.html). A row or a
report that does not parse is therefore not an error of the account: it raises ReportUnparseable, and
the account is read through the API path with a warning naming the cause.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from iam_inventory.collect.calls import ACCESS_DENIED_CODES
from iam_inventory.core.budget import Deadline
from iam_inventory.core.retry import THROTTLING_CODES, Sleep, backoff_delays, client_error_code

ROOT_ROW = "<root_account>"
# Values the report uses for "no date": N/A (never / no such key), no_information, not_supported.
_NO_VALUE = frozenset({"", "N/A", "no_information", "not_supported"})
# How far IAM's clock (GeneratedTime) and the hub's (the run's start) may disagree and still count a
# STARTED report as this run's. AWS refuses signed requests about 15 minutes off its clock
# (https://aws.amazon.com/blogs/developer/clock-skew-correction/); a hub further off than 5 minutes
# only loses the fast path: its reports are verified like cached ones, never trusted wrongly.
CLOCK_SKEW = timedelta(minutes=5)


class ReportUnavailable(Exception):
    """The credential report cannot be used for this account; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReportUnparseable(ReportUnavailable):
    """The report was served but a row (or the whole CSV) does not parse; the account takes the API path."""


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
class ReportCertificate:
    """One signing certificate column pair (cert_1 or cert_2) of a report row; the report names no id."""

    slot: int
    active: bool
    uploaded_at: (
        datetime | None
    )  # cert_N_last_rotated: "when the ... certificate was created or last changed"


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
    certificates: tuple[ReportCertificate, ...] = ()

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


def _certificate_time(value: str | None) -> datetime | None:
    # moto 5.2's own report writes four cert columns short (cert_1_active,cert_2_active), so "false"
    # lands under cert_1_last_rotated: a date that is not one is read as none, never as a bad report.
    try:
        return parse_report_time(value)
    except ValueError:
        return None


def _row_certificates(row: dict[str, str]) -> tuple[ReportCertificate, ...]:
    # A slot holds a certificate when it is active or dated; the User Guide says the date is N/A for a
    # user without an *active* certificate, so an inactive one may show neither (a limit, docs/collection.md).
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html
    certificates = []
    for slot in (1, 2):
        active = row.get(f"cert_{slot}_active") == "true"
        uploaded_at = _certificate_time(row.get(f"cert_{slot}_last_rotated"))
        if active or uploaded_at is not None:
            certificates.append(ReportCertificate(slot, active, uploaded_at))
    return tuple(certificates)


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
    """Parse the report CSV; the root row is kept apart from the users. Raises ReportUnparseable."""
    try:
        text = content.decode("utf-8") if isinstance(content, bytes) else content
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or not {"user", "arn"} <= set(reader.fieldnames):
            raise ReportUnparseable("credential report has no user and arn columns")
        rows = [_parse_row(row, reader.line_num) for row in reader]
    except (ValueError, csv.Error) as error:  # UnicodeDecodeError is a ValueError
        raise ReportUnparseable(f"credential report does not parse: {error}") from None
    users = tuple(row for row in rows if row.user_name != ROOT_ROW)
    root = next((row for row in rows if row.user_name == ROOT_ROW), None)
    return CredentialReport(
        generated_at=generated_at if generated_at.tzinfo else generated_at.replace(tzinfo=UTC),
        users=users,
        root=root,
        generated_by_run=generated_by_run,
    )


def _parse_row(row: dict[str | None, str | None], line: int) -> ReportRow:
    # DictReader files surplus values under None: an unquoted comma in a user name shifts every later
    # column one place, so such a row is refused whole. A row short of trailing columns (moto writes
    # no cert_N_last_rotated) keeps its columns in place: the missing ones read as "no value".
    if None in row:
        raise ReportUnparseable(f"credential report line {line} has more fields than its header")
    fields = {str(key): value for key, value in row.items() if value is not None}
    if not fields.get("user") or not fields.get("arn"):
        raise ReportUnparseable(f"credential report line {line} has no user or arn")
    try:
        password_enabled = fields.get("password_enabled") == "true"
        return ReportRow(
            user_name=fields["user"],
            arn=fields["arn"],
            created_at=parse_report_time(fields.get("user_creation_time")),
            password_enabled=password_enabled,
            password_last_used=parse_report_time(fields.get("password_last_used")),
            mfa_active=fields.get("mfa_active") == "true",
            keys=_row_keys(fields),
            password_changed_at=parse_report_time(fields.get("password_last_changed"))
            if password_enabled
            else None,
            certificates=_row_certificates(fields),
        )
    except ValueError as error:
        raise ReportUnparseable(f"credential report line {line} does not parse: {error}") from None


def is_fresh(state: str | None, generated_at: datetime, run_started_at: datetime | None) -> bool:
    """True when this run's request generated the report: STARTED, and generated since the run began."""
    if state != "STARTED":
        return False
    if run_started_at is None:
        return True
    generated = generated_at if generated_at.tzinfo else generated_at.replace(tzinfo=UTC)
    return generated >= run_started_at - CLOCK_SKEW


def fetch_credential_report(
    iam: BaseClient,
    deadline: Deadline,
    sleep: Sleep = time.sleep,
    delay: Callable[[int], float] | None = None,
    run_started_at: datetime | None = None,
) -> CredentialReport:
    """Generate (or reuse, when under 4 hours old) the report and download it, polling with backoff.

    Raises ReportUnavailable when it cannot be had in time or is not permitted, ReportUnparseable when
    what IAM served does not parse.
    """
    delay = delay or backoff_delays(base=0.5, cap=4.0)
    attempt = 0
    generate = True
    state = ""  # set by the first GenerateCredentialReport, before any return
    while True:
        try:
            if generate:
                state = iam.generate_credential_report().get("State")
                generate = False
            response = iam.get_credential_report()
            generated_at = response["GeneratedTime"]
            # STARTED: this request generates the report, so it reflects IAM as of this run, provided
            # its GeneratedTime says so too (a STARTED handed an older report is verified like a cached one).
            fresh = is_fresh(state, generated_at, run_started_at)
            return parse_credential_report(response["Content"], generated_at, fresh)
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
