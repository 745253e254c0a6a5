"""The findings and inventory tables as lines: findings.csv, inventory.csv and their Athena JSON Lines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from iam_inventory.publish.render.athena import FINDINGS_JSONL_FIELDS, INVENTORY_JSONL_FIELDS, jsonl_line
from iam_inventory.publish.render.items import AccountBatch, AccountItem, FindingItem, RunEnd
from iam_inventory.publish.render.rows import (
    FINDINGS_CSV_COLUMNS,
    INVENTORY_CSV_COLUMNS,
    csv_header,
    csv_lines,
)
from iam_inventory.publish.spool import CSV_TYPE, JSONL_TYPE, ReportFile, run_file


class FindingLines:
    """A line per active or suppressed finding (findings.csv, findings.jsonl), one write an account."""

    def __init__(self, file: ReportFile, line: Callable[[FindingItem], str]) -> None:
        self.file, self.line = file, line
        self.batch = AccountBatch(file.body.write)

    def add_account(self, account: AccountItem) -> None:
        """The previous account's lines go in."""
        self.batch.flush()

    def add_finding(self, item: FindingItem) -> None:
        """The finding's line, when it is one of this run's."""
        if item.listed:
            self.batch.add(self.line(item))

    def finish(self, end: RunEnd) -> list[ReportFile]:
        """The last account's lines go in."""
        self.batch.flush()
        return [self.file]


class InventoryLines:
    """The rows of each scanned account (inventory.csv, inventory.jsonl), one write an account."""

    def __init__(self, file: ReportFile, lines: Callable[[list[dict[str, Any]]], str]) -> None:
        self.file, self.lines = file, lines

    def add_account(self, account: AccountItem) -> None:
        """The account's rows: a user without credentials has one, and one per credential."""
        if account.inventory is not None:
            self.file.body.write(self.lines(account.inventory_rows))

    def add_finding(self, item: FindingItem) -> None:
        """Findings are not in the inventory."""

    def finish(self, end: RunEnd) -> list[ReportFile]:
        """Nothing more to write."""
        return [self.file]


def findings_csv(folder: str, spool_bytes: int) -> FindingLines:
    """findings.csv: its header, then each finding's CSV line."""
    file = run_file(folder, "findings.csv", CSV_TYPE, spool_bytes)
    file.body.write(csv_header(FINDINGS_CSV_COLUMNS))
    return FindingLines(file, lambda item: item.csv_line)


def inventory_csv(folder: str, spool_bytes: int) -> InventoryLines:
    """inventory.csv: its header, then each account's rows."""
    file = run_file(folder, "inventory.csv", CSV_TYPE, spool_bytes)
    file.body.write(csv_header(INVENTORY_CSV_COLUMNS))
    return InventoryLines(file, lambda rows: csv_lines(INVENTORY_CSV_COLUMNS, rows))


def findings_jsonl(folder: str, spool_bytes: int, run: dict[str, Any]) -> FindingLines:
    """findings.jsonl: each finding's row after the run's columns."""
    file = run_file(folder, "findings.jsonl", JSONL_TYPE, spool_bytes)
    return FindingLines(file, lambda item: jsonl_line(FINDINGS_JSONL_FIELDS, run, item.row))


def inventory_jsonl(folder: str, spool_bytes: int, run: dict[str, Any]) -> InventoryLines:
    """inventory.jsonl: each account's rows after the run's columns."""
    file = run_file(folder, "inventory.jsonl", JSONL_TYPE, spool_bytes)
    return InventoryLines(
        file, lambda rows: "".join(jsonl_line(INVENTORY_JSONL_FIELDS, run, row) for row in rows)
    )
