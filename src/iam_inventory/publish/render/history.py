"""history.json: the trend, one small entry per run, this run's last."""

from __future__ import annotations

import json
from typing import Any

from iam_inventory.publish.render.items import AccountItem, FindingItem, RunEnd
from iam_inventory.publish.render.report import history_entry
from iam_inventory.publish.spool import JSON_TYPE, ReportFile, run_file


def run_history(
    report: dict[str, Any],
    accounts: list[dict[str, Any]],
    previous: tuple[dict[str, Any], ...],
    keep: int,
) -> list[dict[str, Any]]:
    """The last `keep` runs of the trend with this one last (a retried run replaces its first attempt)."""
    this_run = history_entry(report)
    # The trend per account and per owner: active findings, zero counts left out to stay small.
    this_run["by_account"] = {
        entry["account_id"]: entry["findings"] for entry in accounts if entry["findings"]
    }
    this_run["by_owner"] = {
        entry["owner"]: entry["findings"] for entry in report["owners"] if entry["findings"]
    }
    runs = [*(item for item in previous if item.get("run_id") != this_run["run_id"]), this_run]
    return runs[-keep:]


class HistoryJson:
    """history.json: written whole at the end (the trend is a few numbers per run)."""

    def __init__(self, folder: str, spool_bytes: int) -> None:
        self.file = run_file(folder, "history.json", JSON_TYPE, spool_bytes)

    def add_account(self, account: AccountItem) -> None:
        """The trend counts accounts through the report, not here."""

    def add_finding(self, item: FindingItem) -> None:
        """The trend counts findings through the report, not here."""

    def finish(self, end: RunEnd) -> list[ReportFile]:
        """The runs, oldest first."""
        self.file.body.write(json.dumps({"runs": end.history}, indent=2) + "\n")
        return [self.file]
