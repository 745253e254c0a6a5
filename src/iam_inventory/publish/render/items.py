"""The one writer Protocol every format implements, and what it is fed: each account, then its findings.

For each account a writer gets `add_account`, then `add_finding` for each of its findings (active,
then suppressed); after the last account, the findings the run resolved and carried over; then
`finish`. What several files show of an account or a finding (its JSON object, its rows) is rendered
once, when its item is made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from iam_inventory.compare.finding_codec import finding_entry
from iam_inventory.evaluate.changes import StateEntry
from iam_inventory.evaluate.finding_enrichment import (
    EnrichedFinding,
    EnrichmentResult,
    enriched_entry,
    enriched_row,
)
from iam_inventory.models import AccountResult, Finding
from iam_inventory.publish.render.html_accounts import URGENT
from iam_inventory.publish.render.report import account_entry, inventory_entry
from iam_inventory.publish.render.rows import FINDINGS_CSV_COLUMNS, csv_lines, finding_row, inventory_rows
from iam_inventory.publish.spool import ReportFile


class FindingKind(Enum):
    """Where a finding stands in this run."""

    ACTIVE = "active"
    SUPPRESSED = "suppressed"  # an unexpired exception accepts it
    RESOLVED = "resolved"  # in the baseline, gone from its scanned account
    CARRIED = "carried"  # in the baseline, its account not scanned this run


@dataclass(frozen=True, slots=True)
class AccountItem:
    """One account as the writers see it: its result and enriched findings, and what several files show."""

    result: AccountResult
    enriched: EnrichmentResult
    entry: dict[str, Any]  # report.json's entry of the account
    inventory: dict[str, Any] | None  # report.json's inventory entry; None for an account not scanned
    inventory_rows: list[dict[str, Any]]  # the rows of inventory.csv and inventory.jsonl
    urgent: int  # its active critical and high findings

    @property
    def active(self) -> int:
        """Its active findings (suppressed ones not included)."""
        return len(self.enriched.active)


def account_item(result: AccountResult, enriched: EnrichmentResult, now: datetime) -> AccountItem:
    """An account rendered once for every writer."""
    inventory = inventory_entry(result.inventory, now) if result.inventory is not None else None
    rows = list(inventory_rows(inventory, result.account.name)) if inventory is not None else []
    urgent = sum(1 for found in enriched.active if found.finding.severity.value in URGENT)
    return AccountItem(result, enriched, account_entry(result, len(enriched.active)), inventory, rows, urgent)


@dataclass(frozen=True, slots=True)
class FindingItem:
    """One finding as the writers see it, and what several files show of it."""

    finding: Finding
    kind: FindingKind
    entry: dict[str, Any]  # its JSON object
    is_new: bool = False
    # A finding of this run: its enrichment, its row (findings.csv, .jsonl), its CSV line (also the owner's).
    enriched: EnrichedFinding | None = None
    row: dict[str, Any] = field(default_factory=dict)
    csv_line: str = ""
    # Its line in the state the next run compares with; None for a resolved finding.
    state: StateEntry | None = None

    @property
    def listed(self) -> bool:
        """Active or suppressed: a row of findings.csv, findings.jsonl and the owner's CSV."""
        return self.kind in (FindingKind.ACTIVE, FindingKind.SUPPRESSED)


def run_finding(
    enriched: EnrichedFinding, kind: FindingKind, first_seen: datetime, is_new: bool, account_name: str
) -> FindingItem:
    """A finding of this run (active or suppressed) rendered once for every writer."""
    finding = enriched.finding
    entry = {**finding_entry(finding, first_seen, is_new), **enriched_entry(enriched)}
    row = {**finding_row(entry, account_name), **enriched_row(enriched)}
    line = csv_lines(FINDINGS_CSV_COLUMNS, [row])
    return FindingItem(finding, kind, entry, is_new, enriched, row, line, StateEntry(finding, first_seen))


def baseline_finding(entry: StateEntry, kind: FindingKind) -> FindingItem:
    """A finding of the baseline that this run resolved, or carried over (then kept in the state)."""
    state = entry if kind is FindingKind.CARRIED else None
    return FindingItem(
        entry.finding, kind, finding_entry(entry.finding, entry.first_seen_at, False), state=state
    )


@dataclass(frozen=True, slots=True)
class RunEnd:
    """What the writers need to finish: report.json without its lists, and the trend with this run last."""

    report: dict[str, Any]
    history: list[dict[str, Any]]


class AccountFeed(Protocol):
    """What is fed each account of a run, then each of its findings."""

    def add_account(self, account: AccountItem) -> None:
        """An account begins: its entry, inventory and counts."""
        ...

    def add_finding(self, item: FindingItem) -> None:
        """One finding of the current account, or, after the last account, one resolved or carried over."""
        ...


class RunFileWriter(AccountFeed, Protocol):
    """One format of a run's output (one or more files), written an account at a time."""

    def finish(self, end: RunEnd) -> list[ReportFile]:
        """Complete the files and hand them over."""
        ...


class AccountBatch:
    """Lines gathered while an account is added, written in one go: one write per file an account."""

    def __init__(self, write: Callable[[str], object]) -> None:
        self.write = write
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        """One more line of the current account."""
        self.lines.append(line)

    def flush(self) -> None:
        """The lines gathered so far, in one write."""
        if self.lines:
            self.write("".join(self.lines))
            self.lines.clear()
