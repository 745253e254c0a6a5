"""report.json's head: the totals and changes counted as the run is written, then run, summary, changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from iam_inventory.compare.state import PreviousState
from iam_inventory.evaluate.changes import RunStatus
from iam_inventory.models import RunContext
from iam_inventory.publish.render.items import AccountItem, FindingItem, FindingKind
from iam_inventory.publish.render.report import SCHEMA_VERSION, RunTotals, run_entry


class RunTally:
    """The run's totals, its new and resolved findings, and the accounts' entries, as the accounts go by."""

    def __init__(self) -> None:
        self.totals = RunTotals()
        self.new = 0
        self.resolved = 0
        self.accounts: list[dict[str, Any]] = []

    def add_account(self, account: AccountItem) -> None:
        """Count the account, its active, suppressed and overdue findings."""
        enriched = account.enriched
        self.totals.add(account.result, [found.finding for found in enriched.active])
        self.totals.suppressed += len(enriched.suppressed)
        self.totals.overdue.update(
            found.finding.severity for found in enriched.active if found.lifecycle.overdue
        )
        self.accounts.append(account.entry)

    def add_finding(self, item: FindingItem) -> None:
        """Count a new or a resolved finding."""
        self.new += item.is_new
        self.resolved += item.kind is FindingKind.RESOLVED


@dataclass(frozen=True, slots=True)
class RunVerdict:
    """What the whole run amounts to: its status and why, whether it becomes the baseline, its changes."""

    status: RunStatus
    reason: str
    baseline: bool
    new: int | None
    resolved: int | None
    expired: int


def report_head(
    context: RunContext,
    finished_at: datetime,
    *,
    folder: str,
    last_good: dict[str, Any] | None,
    previous: PreviousState,
    verdict: RunVerdict,
    summary: dict[str, Any],
    owners: list[dict[str, Any]],
    exceptions: dict[str, Any],
) -> dict[str, Any]:
    """report.json without its lists: run, summary, changes, owners and exceptions."""
    header = previous.header
    run = {
        **run_entry(context, finished_at),
        "status": verdict.status.value,
        "status_reason": verdict.reason,
        "baseline": verdict.baseline,
        "folder": folder,
        "last_good_run": last_good,
    }
    changes = {
        "previous_run_id": header.run_id if header else None,
        "previous_folder": header.folder if header else None,
        "state": {"status": previous.status.value, "detail": previous.detail},
        "new": verdict.new,
        "resolved": verdict.resolved,
        "expired": verdict.expired,
    }
    return {
        "schema_version": SCHEMA_VERSION,
        "run": run,
        "summary": summary,
        "changes": changes,
        "owners": owners,
        "exceptions": exceptions,
    }
