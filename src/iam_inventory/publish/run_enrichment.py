"""The run's enrichment, one account at a time: privilege, exceptions, owner, SLA and remediation per finding.

Per-finding data streams through; what stays is per owner and per exception (counts, spooled CSVs).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from iam_inventory.evaluate.exceptions import NO_EXCEPTIONS, ExceptionSet, RiskException
from iam_inventory.evaluate.finding_enrichment import (
    EnrichedFinding,
    EnrichmentConfig,
    EnrichmentResult,
    context_from_results,
    enrich_findings,
)
from iam_inventory.evaluate.owners import owner_file_stem
from iam_inventory.evaluate.privilege import Privilege
from iam_inventory.models import SEVERITY_ORDER
from iam_inventory.models.scan import AccountScan
from iam_inventory.publish.render.rows import FINDINGS_CSV_COLUMNS, csv_header
from iam_inventory.publish.spool import ReportFile, Spool

CSV_TYPE = "text/csv; charset=utf-8"
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


class RunEnrichment:
    """Enrich each account's findings; keep per-owner tallies and files, and which exceptions matched."""

    def __init__(
        self,
        config: EnrichmentConfig,
        exceptions: ExceptionSet,
        today: date,
        first_seen: Callable[[str], datetime | None],
        spool_bytes: int,
    ) -> None:
        self.config, self.exceptions, self.today = config, exceptions or NO_EXCEPTIONS, today
        self.first_seen, self.spool_bytes = first_seen, spool_bytes
        self.unmatched = {item.exception_id for item in self.exceptions.exceptions}
        self.scanned: set[str] = set()
        self.expired_matches = 0
        self.owners: dict[str, OwnerTally] = {}
        self.owner_files: dict[str, Spool] = {}

    def account(self, scan: AccountScan) -> EnrichmentResult:
        """The account's findings enriched: active (expired exceptions noted) and suppressed."""
        item = scan.result
        account_id = item.account.account_id
        users = item.inventory.users if item.inventory is not None else ()
        seen = {finding.finding_id: self.first_seen(finding.finding_id) for finding in scan.findings}
        context = context_from_results(
            [item],
            account_tags={account_id: item.account.tags},
            privileges={
                (account_id, user.user_name): Privilege(True, user.privileged_reason)
                for user in users
                if user.privileged
            },
            first_seen={finding_id: when for finding_id, when in seen.items() if when is not None},
        )
        if item.inventory is not None:
            self.scanned.add(account_id)
        result = enrich_findings(scan.findings, context, self.today, self.config, self.exceptions)
        # An entry is stale when no account's findings matched it: stale here and everywhere before.
        self.unmatched &= {exception.exception_id for exception in result.stale_exceptions}
        self.expired_matches += sum(1 for enriched in result.active if enriched.exception_note)
        return result

    def owner_row(self, enriched: EnrichedFinding, csv_line: str, suppressed: bool) -> None:
        """Count one finding for its owner and add its findings.csv line to owners/<owner>.csv."""
        tally = self.owners.get(enriched.owner)
        if tally is None:
            tally = self.owners[enriched.owner] = OwnerTally(enriched.owner, owner_file_stem(enriched.owner))
            self.owner_files[enriched.owner] = Spool(self.spool_bytes)
            self.owner_files[enriched.owner].write(csv_header(FINDINGS_CSV_COLUMNS))
        tally.accounts.add(enriched.finding.account_id)
        if suppressed:
            tally.suppressed += 1
        else:
            tally.by_severity[enriched.finding.severity.value] += 1
            tally.overdue += int(enriched.lifecycle.overdue)
        self.owner_files[enriched.owner].write(csv_line)

    def stale(self) -> list[RiskException]:
        """Exceptions that matched no finding of the run, in file order.

        An exception for one account the run could not scan is not stale: its findings are unknown.
        """
        return [
            item
            for item in self.exceptions.exceptions
            if item.exception_id in self.unmatched
            and (item.match.account_id is None or item.match.account_id in self.scanned)
        ]

    def owner_entries(self) -> list[dict[str, Any]]:
        """Every owner with findings, most critical first, then by name."""
        tallies = sorted(
            self.owners.values(),
            key=lambda tally: (*(-tally.by_severity[s.value] for s in SEVERITY_ORDER), tally.owner),
        )
        return [tally.entry() for tally in tallies]

    def owner_report_files(self, folder: str) -> list[ReportFile]:
        """owners/<owner>.csv of each owner (flat: the local folder gets them beside findings.csv)."""
        return [
            ReportFile(
                f"{OWNERS_FOLDER}/{tally.stem}.csv",
                f"{folder}/{OWNERS_FOLDER}/{tally.stem}.csv",
                CSV_TYPE,
                spool,
            )
            for tally, spool in ((self.owners[owner], spool) for owner, spool in self.owner_files.items())
        ]

    def section(self) -> dict[str, Any]:
        """report.json's `exceptions` object: the file, the stale entries and the expired matches."""
        return {
            "source": self.exceptions.source,
            "version": self.exceptions.version,
            "entries": len(self.exceptions.exceptions),
            "expired_matches": self.expired_matches,
            "stale": [exception_entry(item) for item in self.stale()],
        }


def exception_entry(item: RiskException) -> dict[str, Any]:
    """An exception as report.json shows it."""
    return {
        "id": item.exception_id,
        "owner": item.owner,
        "reason": item.reason,
        "ticket": item.ticket,
        "expires": item.expires.isoformat(),
    }
