"""The accounts tables of index.html: a row per account, those needing attention apart from the others.

Every value passes through `esc`: account names and error messages come from the spoke accounts.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from iam_inventory.publish.render.htmlkit import esc
from iam_inventory.publish.spool import Spool

SWITCH_ROLE_URL = "https://signin.aws.amazon.com/switchrole"
# The severities an account row counts in its critical+high column.
URGENT = frozenset({"critical", "high"})


def switch_role_link(account_id: str, role_name: str, display_name: str = "") -> str:
    """The console's switch-role URL for an account (not yet HTML-escaped)."""
    query = {"account": account_id, "roleName": role_name}
    if display_name:
        query["displayName"] = display_name[:64]
    return f"{SWITCH_ROLE_URL}?{urlencode(query)}"


def needs_attention(account: dict[str, Any]) -> bool:
    """An account with findings, or one the run could not scan (skipped on purpose is not an error)."""
    return bool(account["findings"]) or account["status"] in ("failed", "not_scanned")


_ACCOUNT_HEADER = (
    "<tr><th>Account</th><th>Name</th><th>Coverage</th><th>Users</th><th>Keys</th><th>Findings</th>"
    "<th>Critical+high</th><th>Error</th><th>Console</th></tr>"
)


def accounts_open(count: int) -> str:
    """The accounts needing attention (findings or errors), up to their first row."""
    return f'<h2>Accounts with findings or errors ({count})</h2><table id="accounts">{_ACCOUNT_HEADER}'


def accounts_close(quiet: int) -> str:
    """The end of that table, and the start of the folded one of the other `quiet` accounts."""
    return (
        f'</table>\n<details id="quiet-accounts"><summary>{quiet} other accounts: no findings, no errors'
        f'</summary><table id="accounts-quiet">{_ACCOUNT_HEADER}'
    )


ACCOUNTS_END = "</table></details>\n"


class AccountRows:
    """The account rows while a run is written: those needing attention, and the others, spooled apart."""

    def __init__(self, spool_bytes: int) -> None:
        self.spools = {True: Spool(spool_bytes), False: Spool(spool_bytes)}
        self.counts = {True: 0, False: 0}

    def add(self, account: dict[str, Any], urgent: int, role: str | None) -> None:
        """One account's row, in the list it belongs to."""
        attention = needs_attention(account)
        self.counts[attention] += 1
        self.spools[attention].write(account_row(account, urgent, role))

    def copy_to(self, page: Spool) -> None:
        """Both tables into the page (page_bottom closes the folded one), then free the spools."""
        page.write(accounts_open(self.counts[True]))
        self.spools[True].copy_to(page)
        page.write(accounts_close(self.counts[False]))
        self.spools[False].copy_to(page)
        for spool in self.spools.values():
            spool.close()


def account_row(account: dict[str, Any], urgent: int, role: str | None) -> str:
    """One account's row; `urgent` counts its critical and high findings; a switch-role link when it helps."""
    link = ""
    if role and account["status"] == "scanned":
        url = switch_role_link(account["account_id"], role, account["name"])
        link = f'<a href="{esc(url)}" rel="noopener noreferrer">switch role</a>'
    error = f"{account['error_code'] or ''} {account['error_message'] or ''}".strip()
    return (
        f'<tr data-account="{esc(account["account_id"])}"><td>{esc(account["account_id"])}</td>'
        f"<td>{esc(account['name'])}</td>"
        f'<td class="status-{esc(account["status"])}">{esc(account["status"])}</td>'
        f'<td class="num">{esc(account["users"])}</td><td class="num">{esc(account["access_keys"])}</td>'
        f'<td class="num">{esc(account["findings"])}</td>'
        f'<td class="num">{esc(urgent)}</td>'
        f"<td><small>{esc(error)}</small></td>"
        f'<td class="nowrap">{link}</td></tr>'
    )
