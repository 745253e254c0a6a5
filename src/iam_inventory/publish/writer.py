"""Stream a run's AccountScans into its files: report.json, the CSVs, the JSON Lines, index.html, state.

One account at a time goes in; what stays in memory is counts, the few hundred rows the page and the
notification show, and one line per failed or skipped account. Everything else is spooled.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from typing import Any

from iam_inventory.compare.comparison import Comparison
from iam_inventory.compare.finding_codec import finding_entry
from iam_inventory.compare.state import STATE_FILE, StateHeader, encode_entry, encode_header
from iam_inventory.evaluate.changes import RunStatus, StateEntry, becomes_baseline, run_status
from iam_inventory.evaluate.finding_enrichment import EnrichedFinding, enriched_entry, enriched_row
from iam_inventory.models import AccountStatus, RunContext
from iam_inventory.models.scan import AccountScan
from iam_inventory.publish.channels.sns import NOTIFY_SEVERITIES, OwnerNews
from iam_inventory.publish.render import html, html_accounts, htmltable
from iam_inventory.publish.render.athena import FINDINGS_JSONL_FIELDS, INVENTORY_JSONL_FIELDS, jsonl_line
from iam_inventory.publish.render.jsonstream import JsonList, write_json
from iam_inventory.publish.render.report import (
    SCHEMA_VERSION,
    RunTotals,
    account_entry,
    history_entry,
    inventory_entry,
    iso,
    run_entry,
)
from iam_inventory.publish.render.rows import (
    FINDINGS_CSV_COLUMNS,
    INVENTORY_CSV_COLUMNS,
    csv_header,
    csv_lines,
    finding_row,
    inventory_rows,
)
from iam_inventory.publish.render.topn import TopN
from iam_inventory.publish.run_enrichment import RunEnrichment
from iam_inventory.publish.spool import ReportFile, Spool
from iam_inventory.publish.written import RUN_FILES, AccountLines, WriterOptions, Written

# The notification lists this many new urgent findings, and counts the rest.
NOTIFY_LISTED = 20


class RunWriter:
    """Feed it every AccountScan of a run with add(), then finish()."""

    def __init__(self, context: RunContext, comparison: Comparison, options: WriterOptions) -> None:
        self.context, self.comparison, self.options = context, comparison, options
        self.comparable = comparison.previous.comparable
        size = options.spool_bytes
        self.totals = RunTotals()
        lists = ("accounts", "inventory", "findings", "suppressed")
        self.lists = {name: JsonList(1, size) for name in lists}
        self.changes = {name: JsonList(2, size) for name in ("new", "resolved", "carried")}
        self.files = {name: self._file(name, content_type) for name, content_type in RUN_FILES.items()}
        self.files["findings.csv"].body.write(csv_header(FINDINGS_CSV_COLUMNS))
        self.files["inventory.csv"].body.write(csv_header(INVENTORY_CSV_COLUMNS))
        self.state = self._file(STATE_FILE, "application/gzip", flat=False)
        self._state_gzip = gzip.GzipFile(fileobj=self.state.body.file, mode="wb", mtime=0)
        self.html_accounts = html_accounts.AccountRows(size)
        self.top = TopN[dict[str, Any]](htmltable.MAX_FINDING_ROWS)
        self.top_resolved = TopN[dict[str, Any]](htmltable.MAX_FINDING_ROWS)
        self.top_suppressed = TopN[dict[str, Any]](htmltable.MAX_FINDING_ROWS)
        self.enrichment = RunEnrichment(
            options.enrichment, options.exceptions, context.started_at.date(), self._first_seen, size
        )
        self.urgent: dict[str, OwnerNews] = {}
        # The current account's first sightings, as enrichment looked them up: _add_finding reuses them.
        self._first_seen_in_account: dict[str, datetime | None] = {}
        self.account_entries: list[dict[str, Any]] = []
        self.run_columns = {"run_id": context.run_id, "run_started_at": iso(context.started_at)}

    def _file(self, name: str, content_type: str, flat: bool = True) -> ReportFile:
        key = f"{self.options.folder}/{name}"
        return ReportFile(name, key, content_type, Spool(self.options.spool_bytes), flat=flat)

    def _first_seen(self, finding_id: str) -> datetime | None:
        seen = self.comparison.first_seen_at(finding_id) if self.comparable else None
        self._first_seen_in_account[finding_id] = seen
        return seen

    def add(self, scan: AccountScan) -> int:
        """Write one account: its status, inventory and findings, into every file; its active findings."""
        item, now = scan.result, self.context.started_at
        account_id, name = item.account.account_id, item.account.name
        self._first_seen_in_account = {}
        enriched = self.enrichment.account(scan)
        self.totals.add(item, [entry.finding for entry in enriched.active])
        self.totals.suppressed += len(enriched.suppressed)
        self.totals.overdue.update(
            found.finding.severity for found in enriched.active if found.lifecycle.overdue
        )
        if item.status is AccountStatus.SCANNED:
            self.comparison.scanned(account_id)
        entry = account_entry(item, len(enriched.active))
        self.lists["accounts"].add(entry)
        self.account_entries.append(entry)
        if item.inventory is not None:
            inventory = inventory_entry(item.inventory, now)
            self.lists["inventory"].add(inventory)
            rows = list(inventory_rows(inventory, name))
            self.files["inventory.csv"].body.write(csv_lines(INVENTORY_CSV_COLUMNS, rows))
            jsonl = "".join(jsonl_line(INVENTORY_JSONL_FIELDS, self.run_columns, row) for row in rows)
            self.files["inventory.jsonl"].body.write(jsonl)
        urgent = sum(1 for found in enriched.active if found.finding.severity.value in html.URGENT)
        self.html_accounts.add(entry, urgent, self.options.console_role_name)
        added = AccountLines()
        for found in enriched.active:
            self._add_finding(found, name, False, added)
        for found in enriched.suppressed:
            self._add_finding(found, name, True, added)
        # One write per file per account: the findings' rows were rendered once each, above.
        self.lists["findings"].add_all(added.entries)
        self.lists["suppressed"].add_all(added.suppressed)
        self.files["findings.csv"].body.write("".join(added.csv))
        self.files["findings.jsonl"].body.write("".join(added.jsonl))
        self._state_gzip.write("".join(added.state).encode())
        self.comparison.see_all(added.ids)
        return len(enriched.active)

    def _add_finding(
        self, enriched: EnrichedFinding, account_name: str, suppressed: bool, added: AccountLines
    ) -> None:
        finding, now = enriched.finding, self.context.started_at
        # Enrichment looked up every finding of the account (its ids are the scan's).
        seen = self._first_seen_in_account[finding.finding_id]
        # A suppressed finding is never new: it is kept in the state (first seen survives) but not announced.
        is_new = self.comparable and seen is None and not suppressed
        first_seen = seen or now
        added.ids.append(finding.finding_id)
        entry = {**finding_entry(finding, first_seen, is_new), **enriched_entry(enriched)}
        (added.suppressed if suppressed else added.entries).append(entry)
        row = {**finding_row(entry, account_name), **enriched_row(enriched)}
        line = csv_lines(FINDINGS_CSV_COLUMNS, [row])
        added.csv.append(line)
        added.jsonl.append(jsonl_line(FINDINGS_JSONL_FIELDS, self.run_columns, row))
        self.enrichment.owner_row(enriched, line, suppressed)
        added.state.append(encode_entry(StateEntry(finding, first_seen)))
        (self.top_suppressed if suppressed else self.top).add(htmltable.severity_order(entry), entry)
        if is_new:
            self.changes["new"].add(finding.finding_id)
            if finding.severity in NOTIFY_SEVERITIES:
                news = self.urgent.setdefault(enriched.owner, OwnerNews(enriched.owner, TopN(NOTIFY_LISTED)))
                news.add(finding)

    def finish(self, finished_at: datetime, history: tuple[dict[str, Any], ...]) -> Written:
        """Decide the run's status, add resolved and carried-over findings, and complete every file."""
        status, reason = run_status(self.totals.statuses, self.options.max_failed_fraction)
        if self.options.failed_because:
            status, reason = RunStatus.FAILED, self.options.failed_because
        baseline = becomes_baseline(self.context, status)
        expired = 0
        for entry in self.comparison.resolved() if self.comparable else ():
            resolved = finding_entry(entry.finding, entry.first_seen_at, False)
            self.changes["resolved"].add(resolved)
            self.top_resolved.add(htmltable.severity_order(resolved), resolved)
        for carried in self.comparison.carried_over(self.options.carry_over_runs) if self.comparable else ():
            if carried is None:
                expired += 1
                continue
            self.changes["carried"].add(finding_entry(carried.finding, carried.first_seen_at, False))
            self._state_gzip.write(encode_entry(carried).encode())
        new = self.changes["new"].count if self.comparable else None
        resolved_count = self.changes["resolved"].count if self.comparable else None
        report = self._head(finished_at, status, reason, baseline, new, resolved_count, expired)
        this_run = history_entry(report)
        # The trend per account and per owner: active findings, zero counts left out to stay small.
        this_run["by_account"] = {
            e["account_id"]: e["findings"] for e in self.account_entries if e["findings"]
        }
        this_run["by_owner"] = {
            entry["owner"]: entry["findings"] for entry in report["owners"] if entry["findings"]
        }
        runs = [*(item for item in history if item.get("run_id") != this_run["run_id"]), this_run]
        runs = runs[-self.options.history_runs :]
        self._finish_state(runs)
        self._finish_report(report)
        self._finish_html(report, runs)
        self.files["history.json"].body.write(json.dumps({"runs": runs}, indent=2) + "\n")
        return Written(
            files=[
                *self.files.values(),
                *self.enrichment.owner_report_files(self.options.folder),
                self.state,
            ],
            report=report,
            status=status,
            status_reason=reason,
            baseline=baseline,
            new=new,
            resolved=resolved_count,
            expired=expired,
            urgent=[self.urgent[owner] for owner in sorted(self.urgent)],
            urgent_total=sum(news.top.seen for news in self.urgent.values()),
            history=runs,
            accounts=self.account_entries,
        )

    def _head(
        self,
        finished_at: datetime,
        status: RunStatus,
        reason: str,
        baseline: bool,
        new: int | None,
        resolved: int | None,
        expired: int,
    ) -> dict[str, Any]:
        header = self.comparison.previous.header
        run = {
            **run_entry(self.context, finished_at),
            "status": status.value,
            "status_reason": reason,
            "baseline": baseline,
            "folder": self.options.folder,
            "last_good_run": self.options.last_good,
        }
        changes = {
            "previous_run_id": header.run_id if header else None,
            "previous_folder": header.folder if header else None,
            "state": {
                "status": self.comparison.previous.status.value,
                "detail": self.comparison.previous.detail,
            },
            "new": new,
            "resolved": resolved,
            "expired": expired,
        }
        return {
            "schema_version": SCHEMA_VERSION,
            "run": run,
            "summary": self.totals.summary(),
            "changes": changes,
            "owners": self.enrichment.owner_entries(),
            "exceptions": self.enrichment.section(),
        }

    def _finish_state(self, history: list[dict[str, Any]]) -> None:
        previous = self.comparison.previous.header
        header = StateHeader(
            run_id=self.context.run_id,
            folder=self.options.folder,
            started_at=iso(self.context.started_at) or "",
            previous_run_id=previous.run_id if previous else None,
            previous_folder=previous.folder if previous else None,
            history=tuple(history),
        )
        # The header goes in a gzip member of its own, before the findings: one file, two members.
        self._state_gzip.close()
        findings = self.state.body
        self.state.body = Spool(self.options.spool_bytes)
        self.state.body.write(gzip.compress(encode_header(header).encode(), mtime=0))
        findings.copy_to(self.state.body)
        findings.close()

    def _finish_report(self, report: dict[str, Any]) -> None:
        document = {
            "schema_version": report["schema_version"],
            "run": report["run"],
            "summary": report["summary"],
            "owners": report["owners"],
            "exceptions": report["exceptions"],
            **self.lists,
            "changes": {
                **report["changes"],
                "new_finding_ids": self.changes["new"],
                "resolved_findings": self.changes["resolved"],
                "carried_over": self.changes["carried"],
            },
        }
        body = self.files["report.json"].body
        write_json(body, document)
        body.write("\n")

    def _finish_html(self, report: dict[str, Any], history: list[dict[str, Any]]) -> None:
        page = self.files["index.html"].body
        names = {entry["account_id"]: entry["name"] for entry in self.account_entries}

        def named(top: TopN[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
            return [(entry, names.get(entry["account_id"], "")) for entry in top.items()]

        findings, suppressed = self.lists["findings"].count, self.lists["suppressed"].count
        page.write(html.page_top(report, named(self.top), findings, named(self.top_suppressed), suppressed))
        self.html_accounts.copy_to(page)
        page.write(html.page_bottom(report, history, named(self.top_resolved), self.top_resolved.seen))
