"""A run held in memory rendered through the streaming writer: the report document and its CSVs.

For the CLI and tests, which hold small runs whole. There is no second renderer: these run the same
RunWriter that publishing runs, with no previous state to compare with, and read its output back.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from iam_inventory.compare.comparison import Comparison
from iam_inventory.compare.state import PreviousState
from iam_inventory.evaluate.changes import StateStatus
from iam_inventory.models import Finding, RunResult
from iam_inventory.models.scan import AccountScan
from iam_inventory.publish.render.rows import (
    FINDINGS_CSV_COLUMNS,
    INVENTORY_CSV_COLUMNS,
    csv_header,
    csv_lines,
    finding_row,
    inventory_rows,
)
from iam_inventory.publish.writer import RunWriter
from iam_inventory.publish.written import WriterOptions


def account_scans(result: RunResult) -> list[AccountScan]:
    """The AccountScans of a run held in memory, in its account order."""
    by_account: dict[str, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        by_account[finding.account_id].append(finding)
    return [
        AccountScan(result.context.run_id, item, tuple(by_account.get(item.account.account_id, ())))
        for item in result.accounts
    ]


def render_files(result: RunResult, previous: PreviousState | None = None) -> dict[str, bytes]:
    """Every run file, by name, as publishing would write it."""
    comparison = Comparison(previous or PreviousState(StateStatus.NONE, "first run: no baseline"))
    try:
        writer = RunWriter(result.context, comparison, WriterOptions(folder="memory"))
        for scan in account_scans(result):
            writer.add(scan)
        written = writer.finish(result.finished_at, ())
        files = {file.name: file.body.reader().read() for file in written.files}
        for file in written.files:
            file.body.close()
        return files
    finally:
        comparison.close()


def build_report(result: RunResult) -> dict[str, Any]:
    """The report.json document of a run held in memory (compared with nothing)."""
    report: dict[str, Any] = json.loads(render_files(result)["report.json"])
    return report


def render_findings_csv(report: dict[str, Any]) -> bytes:
    """findings.csv of a report document: one row per finding."""
    names = {account["account_id"]: account["name"] for account in report["accounts"]}
    entries = [*report["findings"], *report.get("suppressed", [])]  # suppressed rows carry suppressed_by
    rows = [finding_row(finding, names.get(finding["account_id"], "")) for finding in entries]
    return (csv_header(FINDINGS_CSV_COLUMNS) + csv_lines(FINDINGS_CSV_COLUMNS, rows)).encode()


def render_inventory_csv(report: dict[str, Any]) -> bytes:
    """inventory.csv of a report document: one row per access key, and per user without keys."""
    names = {account["account_id"]: account["name"] for account in report["accounts"]}
    rows = [
        row
        for entry in report["inventory"]
        for row in inventory_rows(entry, names.get(entry["account_id"], ""))
    ]
    return (csv_header(INVENTORY_CSV_COLUMNS) + csv_lines(INVENTORY_CSV_COLUMNS, rows)).encode()
