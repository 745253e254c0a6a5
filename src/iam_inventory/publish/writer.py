"""Stream a run's AccountScans into its files: each account enriched once, then handed to every writer.

One account at a time goes in; what stays in memory is counts, the few hundred rows the page and the
notification show, and one line per account. Everything else is spooled by the writers (render/).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from iam_inventory.compare.comparison import Comparison
from iam_inventory.compare.state import StateHeader
from iam_inventory.evaluate.changes import RunStatus, becomes_baseline, run_status
from iam_inventory.evaluate.finding_enrichment import EnrichedFinding
from iam_inventory.models import AccountStatus, RunContext
from iam_inventory.models.scan import AccountScan
from iam_inventory.publish.channels.sns import UrgentNews
from iam_inventory.publish.render.history import HistoryJson, run_history
from iam_inventory.publish.render.index_html import IndexHtml
from iam_inventory.publish.render.items import (
    AccountFeed,
    FindingItem,
    FindingKind,
    RunEnd,
    RunFileWriter,
    account_item,
    baseline_finding,
    run_finding,
)
from iam_inventory.publish.render.report import iso
from iam_inventory.publish.render.report_json import ReportJson
from iam_inventory.publish.render.state_file import StateFile
from iam_inventory.publish.render.summary import RunSummary, RunTally, RunVerdict
from iam_inventory.publish.render.tables import findings_csv, findings_jsonl, inventory_csv, inventory_jsonl
from iam_inventory.publish.run_enrichment import RunEnrichment
from iam_inventory.publish.written import WriterOptions, Written


class RunWriter:
    """Feed it every AccountScan of a run with add(), then finish()."""

    def __init__(self, context: RunContext, comparison: Comparison, options: WriterOptions) -> None:
        self.context, self.comparison, self.options = context, comparison, options
        self.comparable = comparison.previous.comparable
        folder, size = options.folder, options.spool_bytes
        self.enrichment = RunEnrichment(
            options.enrichment, options.exceptions, context.started_at.date(), self._first_seen, size
        )
        # The current account's first sightings, as enrichment looked them up: _finding reuses them.
        self._first_seen_in_account: Mapping[str, datetime] = {}
        run_columns = {"run_id": context.run_id, "run_started_at": iso(context.started_at)}
        previous = comparison.previous.header
        state = StateHeader(
            run_id=context.run_id,
            folder=folder,
            started_at=iso(context.started_at) or "",
            previous_run_id=previous.run_id if previous else None,
            previous_folder=previous.folder if previous else None,
        )
        # In the order the files are published.
        self.writers: tuple[RunFileWriter, ...] = (
            ReportJson(folder, size),
            findings_csv(folder, size),
            inventory_csv(folder, size),
            HistoryJson(folder, size),
            IndexHtml(folder, size, options.console_role_name),
            findings_jsonl(folder, size, run_columns),
            inventory_jsonl(folder, size, run_columns),
            self.enrichment.owners,
            StateFile(folder, size, state),
        )
        self.tally = RunTally()
        self.news = UrgentNews()
        self.feeds: tuple[AccountFeed, ...] = (self.tally, self.news, *self.writers)

    def _first_seen(self, finding_ids: Sequence[str]) -> Mapping[str, datetime]:
        seen = self.comparison.first_seen_of(finding_ids) if self.comparable else {}
        self._first_seen_in_account = seen
        return seen

    def add(self, scan: AccountScan) -> int:
        """Write one account (its status, inventory and findings) into every file; its active findings."""
        item = scan.result
        self._first_seen_in_account = {}
        enriched = self.enrichment.account(scan)
        if item.status is AccountStatus.SCANNED:
            self.comparison.scanned(item.account.account_id)
        account = account_item(item, enriched, self.context.started_at)
        for feed in self.feeds:
            feed.add_account(account)
        name = item.account.name
        findings = [
            *(self._finding(found, name, FindingKind.ACTIVE) for found in enriched.active),
            *(self._finding(found, name, FindingKind.SUPPRESSED) for found in enriched.suppressed),
        ]
        for finding in findings:
            self._feed(finding)
        self.comparison.see_all(finding.finding.finding_id for finding in findings)
        return account.active

    def _finding(self, enriched: EnrichedFinding, account_name: str, kind: FindingKind) -> FindingItem:
        # Enrichment looked up every finding of the account (its ids are the scan's).
        seen = self._first_seen_in_account.get(enriched.finding.finding_id)
        # A suppressed finding is never new: it is kept in the state (first seen survives) but not announced.
        is_new = self.comparable and seen is None and kind is FindingKind.ACTIVE
        return run_finding(enriched, kind, seen or self.context.started_at, is_new, account_name)

    def _feed(self, item: FindingItem) -> None:
        for feed in self.feeds:
            feed.add_finding(item)

    def finish(self, finished_at: datetime, history: tuple[dict[str, Any], ...]) -> Written:
        """Decide the run's status, add resolved and carried-over findings, and complete every file."""
        status, reason = run_status(self.tally.totals.statuses, self.options.max_failed_fraction)
        if self.options.failed_because:
            status, reason = RunStatus.FAILED, self.options.failed_because
        expired = self._changes() if self.comparable else 0
        verdict = RunVerdict(
            status=status,
            reason=reason,
            baseline=becomes_baseline(self.context, status),
            new=self.tally.new if self.comparable else None,
            resolved=self.tally.resolved if self.comparable else None,
            expired=expired,
        )
        previous = self.comparison.previous
        summary = RunSummary(
            context=self.context,
            finished_at=finished_at,
            folder=self.options.folder,
            last_good=self.options.last_good,
            previous=previous.header,
            state=previous.status,
            state_detail=previous.detail,
            verdict=verdict,
            counts=self.tally.totals.counts(),
            owners=tuple(self.enrichment.owners.entries()),
            exceptions=self.enrichment.section(),
        )
        report = summary.report()
        runs = run_history(report, self.tally.accounts, history, self.options.history_runs)
        end = RunEnd(report, runs)
        return Written(
            files=[file for writer in self.writers for file in writer.finish(end)],
            summary=summary,
            urgent=self.news.by_owner(),
            urgent_total=self.news.total,
            history=runs,
            accounts=self.tally.accounts,
            totals=self.tally.totals,
        )

    def _changes(self) -> int:
        """Feed the resolved findings, then those carried over; how many expired instead."""
        for entry in self.comparison.resolved():
            self._feed(baseline_finding(entry, FindingKind.RESOLVED))
        expired = 0
        for carried in self.comparison.carried_over(self.options.carry_over_runs):
            if carried is None:
                expired += 1
            else:
                self._feed(baseline_finding(carried, FindingKind.CARRIED))
        return expired
