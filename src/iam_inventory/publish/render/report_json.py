"""report.json: the versioned document, its lists spooled as the accounts go by and stitched at the end."""

from __future__ import annotations

from typing import Any

from iam_inventory.publish.render.items import AccountItem, FindingItem, FindingKind, RunEnd
from iam_inventory.publish.render.jsonstream import JsonList, write_json
from iam_inventory.publish.spool import JSON_TYPE, ReportFile, run_file


class ReportJson:
    """report.json: accounts, inventory, findings, suppressed, and the changes' ids and entries."""

    def __init__(self, folder: str, spool_bytes: int) -> None:
        self.file = run_file(folder, "report.json", JSON_TYPE, spool_bytes)
        lists = ("accounts", "inventory", "findings", "suppressed")
        self.lists = {name: JsonList(1, spool_bytes) for name in lists}
        self.changes = {name: JsonList(2, spool_bytes) for name in ("new", "resolved", "carried")}
        # The current account's findings: one write per list an account.
        self.pending: dict[FindingKind, list[dict[str, Any]]] = {
            FindingKind.ACTIVE: [],
            FindingKind.SUPPRESSED: [],
        }

    def add_account(self, account: AccountItem) -> None:
        """The account's entry, and its inventory when it was scanned."""
        self._flush()
        self.lists["accounts"].add(account.entry)
        if account.inventory is not None:
            self.lists["inventory"].add(account.inventory)

    def add_finding(self, item: FindingItem) -> None:
        """A finding in its list; a new one's id, a resolved or carried-over one in the changes."""
        if item.kind in self.pending:
            self.pending[item.kind].append(item.entry)
        else:
            self.changes["resolved" if item.kind is FindingKind.RESOLVED else "carried"].add(item.entry)
        if item.is_new:
            self.changes["new"].add(item.finding.finding_id)

    def _flush(self) -> None:
        self.lists["findings"].add_all(self.pending[FindingKind.ACTIVE])
        self.lists["suppressed"].add_all(self.pending[FindingKind.SUPPRESSED])
        for entries in self.pending.values():
            entries.clear()

    def finish(self, end: RunEnd) -> list[ReportFile]:
        """The whole document: the head, then every list from its spool."""
        self._flush()
        report = end.report
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
        write_json(self.file.body, document)
        self.file.body.write("\n")
        return [self.file]
