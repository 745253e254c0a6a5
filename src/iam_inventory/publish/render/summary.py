"""The run's summary: counted as the run is written (RunTally), then typed (RunSummary) for every reader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from iam_inventory.compare.state import StateHeader
from iam_inventory.core.clock import iso
from iam_inventory.evaluate.changes import RunStatus, StateStatus
from iam_inventory.models import RunContext
from iam_inventory.publish.render.items import AccountItem, FindingItem, FindingKind
from iam_inventory.publish.render.report import SCHEMA_VERSION, run_entry
from iam_inventory.publish.render.totals import RunCounts, RunTotals


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


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What the writer made of a run, typed; report.json's head (report()) is its one serialization."""

    context: RunContext
    finished_at: datetime
    folder: str
    # The run latest.json pointed at when this run started: {"run_id", "folder", "href"}.
    last_good: Mapping[str, Any] | None
    # The run this one compared with, and what became of its comparison state.
    previous: StateHeader | None
    state: StateStatus
    state_detail: str
    verdict: RunVerdict
    counts: RunCounts
    # report.json's owners and exceptions sections, as the owners' writer and the enrichment made them.
    owners: tuple[Mapping[str, Any], ...]
    exceptions: Mapping[str, Any]

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.context.run_id

    @property
    def started_at(self) -> str:
        """When the run started (ISO 8601, as report.json has it)."""
        return iso(self.context.started_at) or ""

    @property
    def previous_run_id(self) -> str | None:
        """The run this one compared with; None for a first run or an unusable state."""
        return self.previous.run_id if self.previous else None

    def run(self) -> dict[str, Any]:
        """report.json's `run` object."""
        return {
            **run_entry(self.context, self.finished_at),
            "status": self.verdict.status.value,
            "status_reason": self.verdict.reason,
            "baseline": self.verdict.baseline,
            "folder": self.folder,
            "last_good_run": dict(self.last_good) if self.last_good is not None else None,
        }

    def changes(self) -> dict[str, Any]:
        """report.json's `changes` object, without its lists."""
        return {
            "previous_run_id": self.previous_run_id,
            "previous_folder": self.previous.folder if self.previous else None,
            "state": {"status": self.state.value, "detail": self.state_detail},
            "new": self.verdict.new,
            "resolved": self.verdict.resolved,
            "expired": self.verdict.expired,
        }

    def report(self) -> dict[str, Any]:
        """report.json without its lists: schema version, run, summary, changes, owners and exceptions."""
        return {
            "schema_version": SCHEMA_VERSION,
            "run": self.run(),
            "summary": self.counts.to_dict(),
            "changes": self.changes(),
            "owners": [dict(owner) for owner in self.owners],
            "exceptions": dict(self.exceptions),
        }
