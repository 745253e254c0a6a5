"""Risk exceptions with expiry: which findings an accepted risk covers, at a given date (pure).

The file is validated by `exceptions_format` and read from S3, SSM or disk by `config.exceptions_source`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from fnmatch import fnmatchcase

from iam_inventory.core.errors import IamInventoryError
from iam_inventory.evaluate.owners import ou_within
from iam_inventory.models import Finding

EXCEPTIONS_FORMAT_VERSION = 1
MAX_EXCEPTION_DAYS = 365
EXCEPTION_EXPIRED = "exception_expired"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ExceptionsFileError(IamInventoryError, ValueError):
    """The exceptions file is invalid: nothing of it is applied; each problem names the entry and field."""

    def __init__(self, source: str, problems: Iterable[str]) -> None:
        self.source = source
        # One line per problem, whatever the file holds: a key or value may carry a newline.
        self.problems = tuple(_CONTROL.sub("?", problem) for problem in problems)
        super().__init__(f"exceptions file {source} is invalid: " + "; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class ExceptionMatch:
    """What an exception covers: every field set must match (None matches anything)."""

    account_id: str | None = None
    ou_path: str | None = None
    # A glob on the user name, or on the user ARN when it starts with "arn:".
    user: str | None = None
    access_key_id: str | None = None
    rule_id: str | None = None
    # Any credential's id: a service-specific credential, SSH key, signing certificate or access key.
    credential_id: str | None = None


@dataclass(frozen=True, slots=True)
class RiskException:
    """An accepted risk: who accepted it, why, and until when (inclusive)."""

    exception_id: str
    match: ExceptionMatch
    owner: str
    reason: str
    expires: date
    ticket: str | None = None

    def expired(self, today: date) -> bool:
        """True once `today` is past the expiry date."""
        return today > self.expires


@dataclass(frozen=True, slots=True)
class ExceptionSet:
    """A validated exceptions file."""

    source: str
    version: int = EXCEPTIONS_FORMAT_VERSION
    exceptions: tuple[RiskException, ...] = ()


NO_EXCEPTIONS = ExceptionSet(source="(none)")


@dataclass(frozen=True, slots=True)
class FindingScope:
    """What a finding does not carry itself but an exception may match on."""

    ou_path: str = ""
    user_arn: str | None = None


@dataclass(frozen=True, slots=True)
class Suppressed:
    """A finding an active exception covers."""

    finding: Finding
    exception: RiskException


@dataclass(frozen=True, slots=True)
class Expired:
    """A finding whose only matching exceptions have expired: it is active again."""

    finding: Finding
    exception: RiskException
    note: str = EXCEPTION_EXPIRED


@dataclass(frozen=True, slots=True)
class ExceptionOutcome:
    """Findings split by the exceptions; `active` includes the expired ones, which are back on."""

    active: tuple[Finding, ...]
    suppressed: tuple[Suppressed, ...]
    expired: tuple[Expired, ...]
    stale: tuple[RiskException, ...]


def matches(exception: RiskException, finding: Finding, scope: FindingScope) -> bool:
    """True when every field the exception sets matches the finding."""
    match = exception.match
    if match.account_id is not None and match.account_id != finding.account_id:
        return False
    if match.rule_id is not None and match.rule_id != finding.rule_id:
        return False
    if match.access_key_id is not None and match.access_key_id != finding.access_key_id:
        return False
    if match.credential_id is not None and match.credential_id != (
        finding.credential_id or finding.access_key_id
    ):
        return False
    if match.ou_path is not None and not ou_within(scope.ou_path, match.ou_path):
        return False
    if match.user is not None:
        subject = scope.user_arn if match.user.startswith("arn:") else finding.user_name
        # IAM names are unique regardless of case, so a pattern should not depend on it either.
        if (
            finding.user_name is None
            or not subject
            or not fnmatchcase(subject.casefold(), match.user.casefold())
        ):
            return False
    return True


def apply_exceptions(
    findings: Iterable[Finding],
    exceptions: ExceptionSet,
    today: date,
    scope_of: Callable[[Finding], FindingScope] | None = None,
) -> ExceptionOutcome:
    """Split findings into active, suppressed (first unexpired match wins) and expired; list stale entries."""
    active: list[Finding] = []
    suppressed: list[Suppressed] = []
    expired: list[Expired] = []
    used: set[str] = set()
    for finding in findings:
        scope = scope_of(finding) if scope_of else FindingScope()
        matched = [item for item in exceptions.exceptions if matches(item, finding, scope)]
        used.update(item.exception_id for item in matched)
        current = next((item for item in matched if not item.expired(today)), None)
        if current is not None:
            suppressed.append(Suppressed(finding, current))
            continue
        active.append(finding)
        if matched:
            expired.append(Expired(finding, matched[0]))
    stale = tuple(item for item in exceptions.exceptions if item.exception_id not in used)
    return ExceptionOutcome(tuple(active), tuple(suppressed), tuple(expired), stale)
