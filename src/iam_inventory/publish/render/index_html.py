"""index.html as the run is written: account rows spooled, the most urgent findings kept, then the page."""

from __future__ import annotations

from collections import Counter
from typing import Any

from iam_inventory.publish.render import html, htmltable
from iam_inventory.publish.render.html_accounts import AccountRows
from iam_inventory.publish.render.items import AccountItem, FindingItem, FindingKind, RunEnd
from iam_inventory.publish.render.topn import TopN
from iam_inventory.publish.spool import HTML_TYPE, ReportFile, run_file

_SHOWN = (FindingKind.ACTIVE, FindingKind.SUPPRESSED, FindingKind.RESOLVED)


class IndexHtml:
    """index.html: every account's row, and the first rows of the findings, suppressed and resolved tables."""

    def __init__(self, folder: str, spool_bytes: int, console_role_name: str | None) -> None:
        self.file = run_file(folder, "index.html", HTML_TYPE, spool_bytes)
        self.role = console_role_name
        self.accounts = AccountRows(spool_bytes)
        self.names: dict[str, str] = {}
        # Read here, not imported: a test lowers the cap.
        self.top = {kind: TopN[dict[str, Any]](htmltable.MAX_FINDING_ROWS) for kind in _SHOWN}
        self.counts: Counter[FindingKind] = Counter()

    def add_account(self, account: AccountItem) -> None:
        """The account's row, in the table it belongs to."""
        self.names[account.result.account.account_id] = account.result.account.name
        self.accounts.add(account.entry, account.urgent, self.role)

    def add_finding(self, item: FindingItem) -> None:
        """Counted, and kept while it is among the most urgent of its table."""
        if item.kind in self.top:
            self.counts[item.kind] += 1
            self.top[item.kind].add(htmltable.severity_order(item.entry), item.entry)

    def finish(self, end: RunEnd) -> list[ReportFile]:
        """The page: head and findings, the account tables, then the counts, trend and resolved findings."""

        def named(kind: FindingKind) -> list[tuple[dict[str, Any], str]]:
            return [(entry, self.names.get(entry["account_id"], "")) for entry in self.top[kind].items()]

        active, suppressed = FindingKind.ACTIVE, FindingKind.SUPPRESSED
        page = self.file.body
        page.write(
            html.page_top(
                end.report, named(active), self.counts[active], named(suppressed), self.counts[suppressed]
            )
        )
        self.accounts.copy_to(page)
        resolved = self.top[FindingKind.RESOLVED]
        page.write(html.page_bottom(end.report, end.history, named(FindingKind.RESOLVED), resolved.seen))
        return [self.file]
