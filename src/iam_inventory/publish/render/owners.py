"""owners/<owner>.csv and the owners of report.json: each owner's findings, counted and listed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from iam_inventory.evaluate.owners import owner_file_stem
from iam_inventory.models import SEVERITY_ORDER
from iam_inventory.publish.render.items import AccountItem, FindingItem, FindingKind, RunEnd
from iam_inventory.publish.render.rows import FINDINGS_CSV_COLUMNS, csv_header
from iam_inventory.publish.spool import CSV_TYPE, ReportFile, Spool

OWNERS_FOLDER = "owners"


@dataclass(slots=True)
class OwnerTally:
    """One owner's findings in this run (active ones by severity, overdue, suppressed) and their file."""

    owner: str
    stem: str
    by_severity: Counter[str] = field(default_factory=Counter)
    overdue: int = 0
    suppressed: int = 0
    accounts: set[str] = field(default_factory=set)

    @property
    def active(self) -> int:
        """Active findings (suppressed ones not included)."""
        return sum(self.by_severity.values())

    def entry(self) -> dict[str, Any]:
        """The owner as report.json and the history show it."""
        return {
            "owner": self.owner,
            "file": f"{OWNERS_FOLDER}/{self.stem}.csv",
            "findings": self.active,
            "by_severity": {severity.value: self.by_severity[severity.value] for severity in SEVERITY_ORDER},
            "overdue": self.overdue,
            "suppressed": self.suppressed,
            "accounts": len(self.accounts),
        }


class OwnersCsv:
    """owners/<owner>.csv: each owner's lines of findings.csv (in a local folder, beside findings.csv)."""

    def __init__(self, spool_bytes: int) -> None:
        self.spool_bytes = spool_bytes
        self.owners: dict[str, OwnerTally] = {}
        self.files: dict[str, Spool] = {}

    def add_account(self, account: AccountItem) -> None:
        """Owners are per finding."""

    def add_finding(self, item: FindingItem) -> None:
        """Count a finding of this run for its owner, and add its findings.csv line to the owner's file."""
        enriched = item.enriched
        if enriched is None:
            return
        tally = self.owners.get(enriched.owner)
        if tally is None:
            tally = self.owners[enriched.owner] = OwnerTally(enriched.owner, owner_file_stem(enriched.owner))
            self.files[enriched.owner] = Spool(self.spool_bytes)
            self.files[enriched.owner].write(csv_header(FINDINGS_CSV_COLUMNS))
        tally.accounts.add(enriched.finding.account_id)
        if item.kind is FindingKind.SUPPRESSED:
            tally.suppressed += 1
        else:
            tally.by_severity[enriched.finding.severity.value] += 1
            tally.overdue += int(enriched.lifecycle.overdue)
        self.files[enriched.owner].write(item.csv_line)

    def entries(self) -> list[dict[str, Any]]:
        """Every owner with findings, most critical first, then by name."""
        tallies = sorted(
            self.owners.values(),
            key=lambda tally: (*(-tally.by_severity[s.value] for s in SEVERITY_ORDER), tally.owner),
        )
        return [tally.entry() for tally in tallies]

    def finish(self, end: RunEnd) -> list[ReportFile]:
        """Each owner's file, in the order the owners were first seen."""
        folder = end.report["run"]["folder"]
        return [
            ReportFile(
                f"{OWNERS_FOLDER}/{self.owners[owner].stem}.csv",
                f"{folder}/{OWNERS_FOLDER}/{self.owners[owner].stem}.csv",
                CSV_TYPE,
                spool,
            )
            for owner, spool in self.files.items()
        ]
