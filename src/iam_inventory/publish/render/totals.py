"""The run's totals: counted one account at a time, then frozen into the counts report.json summarizes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from iam_inventory.evaluate.rules import RULE_IDS
from iam_inventory.models import SEVERITY_ORDER, AccountResult, AccountStatus, Finding, Severity
from iam_inventory.models.credentials import CredentialType
from iam_inventory.publish.render.credentials import counts_summary, credential_counts


@dataclass(frozen=True, slots=True)
class AccountCounts:
    """The run's accounts by status."""

    expected: int
    scanned: int
    failed: int
    skipped: int
    not_scanned: int

    def to_dict(self) -> dict[str, int]:
        """report.json's `summary.accounts`: the fields in their order."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class RunCounts:
    """What the run found: accounts, users, credentials, and findings (active ones; suppressed apart)."""

    accounts: AccountCounts
    users: int
    console_users: int
    access_keys: int
    active_access_keys: int
    api_calls: int
    retried_calls: int
    credentials: Mapping[str, Mapping[str, int]]  # kind -> {"total", "active"}
    findings: int
    by_severity: Mapping[str, int]
    by_rule: Mapping[str, int]
    overdue_by_severity: Mapping[str, int]
    suppressed: int

    def to_dict(self) -> dict[str, Any]:
        """report.json's `summary` object."""
        return {
            "accounts": self.accounts.to_dict(),
            "users": self.users,
            "console_users": self.console_users,
            "access_keys": self.access_keys,
            "active_access_keys": self.active_access_keys,
            "api_calls": self.api_calls,
            "retried_calls": self.retried_calls,
            "credentials": {kind: dict(counts) for kind, counts in self.credentials.items()},
            "findings": {
                "total": self.findings,
                "by_severity": dict(self.by_severity),
                "by_rule": dict(self.by_rule),
                "overdue_by_severity": dict(self.overdue_by_severity),
                "suppressed": self.suppressed,
            },
        }


@dataclass(slots=True)
class RunTotals:
    """Counts for the whole run, added up one account at a time (nothing else is kept)."""

    statuses: Counter[AccountStatus] = field(default_factory=Counter)
    users: int = 0
    console_users: int = 0
    access_keys: int = 0
    active_access_keys: int = 0
    api_calls: int = 0
    retried_calls: int = 0
    by_severity: Counter[Severity] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    # Active findings past their SLA, by severity; findings an unexpired exception suppresses.
    overdue: Counter[Severity] = field(default_factory=Counter)
    suppressed: int = 0
    # (credential kind, active) -> how many, over every user scanned.
    credentials: Counter[tuple[CredentialType, bool]] = field(default_factory=Counter)

    def add(self, item: AccountResult, findings: tuple[Finding, ...] | list[Finding]) -> None:
        """Count one account and its findings."""
        self.statuses[item.status] += 1
        self.api_calls += item.api_calls
        self.retried_calls += item.retried_calls
        users = item.inventory.users if item.inventory is not None else ()
        self.users += len(users)
        self.console_users += sum(1 for user in users if user.console_access)
        keys = [key for user in users for key in user.access_keys]
        self.access_keys += len(keys)
        self.active_access_keys += sum(1 for key in keys if key.active)
        self.credentials.update(credential_counts(users))
        self.by_severity.update(finding.severity for finding in findings)
        self.by_rule.update(finding.rule_id for finding in findings)

    @property
    def expected(self) -> int:
        """Every account of the run, whatever its status."""
        return sum(self.statuses.values())

    @property
    def findings(self) -> int:
        """Findings of the accounts scanned in this run."""
        return sum(self.by_severity.values())

    def counts(self) -> RunCounts:
        """The totals, frozen: what report.json's `summary` serializes."""
        return RunCounts(
            accounts=AccountCounts(
                expected=self.expected,
                scanned=self.statuses[AccountStatus.SCANNED],
                failed=self.statuses[AccountStatus.FAILED],
                skipped=self.statuses[AccountStatus.SKIPPED],
                not_scanned=self.statuses[AccountStatus.NOT_SCANNED],
            ),
            users=self.users,
            console_users=self.console_users,
            access_keys=self.access_keys,
            active_access_keys=self.active_access_keys,
            api_calls=self.api_calls,
            retried_calls=self.retried_calls,
            credentials=counts_summary(self.credentials),
            findings=self.findings,
            by_severity={severity.value: self.by_severity[severity] for severity in SEVERITY_ORDER},
            by_rule={rule_id: self.by_rule[rule_id] for rule_id in RULE_IDS},
            overdue_by_severity={severity.value: self.overdue[severity] for severity in SEVERITY_ORDER},
            suppressed=self.suppressed,
        )
