"""`index.html`: one self-contained page (no scripts, fonts or CDNs) a security engineer can open from S3.

Every value from the report passes through `esc`: user names, tags and error messages come from the
spoke accounts, and a tag value is as good a place for `<script>` as any.
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlencode

from iam_inventory.evaluate.rules import RULES
from iam_inventory.models import SEVERITY_ORDER
from iam_inventory.publish.htmlkit import CSP, STYLE, esc, trend_chart, when
from iam_inventory.publish.rows import format_tags

SWITCH_ROLE_URL = "https://signin.aws.amazon.com/switchrole"
# Rows of the findings table; beyond this the page points at findings.csv (which has every finding).
MAX_FINDING_ROWS = 2_000
_RULE_TITLES = {rule.rule_id: rule.title for rule in RULES}
URGENT = frozenset({"critical", "high"})
_SEVERITY_RANK = {severity.value: rank for rank, severity in enumerate(SEVERITY_ORDER)}


def switch_role_link(account_id: str, role_name: str, display_name: str = "") -> str:
    """The console's switch-role URL for an account (not yet HTML-escaped)."""
    query = {"account": account_id, "roleName": role_name}
    if display_name:
        query["displayName"] = display_name[:64]
    return f"{SWITCH_ROLE_URL}?{urlencode(query)}"


def render_html(
    report: dict[str, Any], history: list[dict[str, Any]] | None = None, console_role_name: str | None = None
) -> bytes:
    """The page of a report held in memory (the `report` command); publishing streams the same parts."""
    role = console_role_name
    names = {account["account_id"]: account["name"] for account in report["accounts"]}
    urgent: Counter[str] = Counter(
        finding["account_id"] for finding in report["findings"] if finding["severity"] in URGENT
    )
    account_rows = "".join(
        account_row(account, urgent[account["account_id"]], role) for account in report["accounts"]
    )
    changes = report.get("changes") or {}
    resolved = changes.get("resolved_findings", [])
    parts = [
        page_head(report, history or []),
        accounts_open(),
        account_rows,
        accounts_close(),
        findings_section(
            [(finding, names.get(finding["account_id"], "")) for finding in top_findings(report["findings"])],
            len(report["findings"]),
        ),
        resolved_section(
            [(finding, names.get(finding["account_id"], "")) for finding in top_findings(resolved)],
            len(resolved),
        ),
        PAGE_END,
    ]
    return "".join(parts).encode()


def page_head(report: dict[str, Any], history: list[dict[str, Any]]) -> str:
    """Everything above the accounts table: banner, run line, counts, charts (`report` without its lists)."""
    run = report["run"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>IAM inventory - {esc(run['run_id'])}</title>",
        f"<style>{STYLE}</style></head><body>",
        banners(report),
        "<h1>IAM users and access keys</h1>",
        f'<div class="meta">Run <b>{esc(run["run_id"])}</b> ({esc(run["trigger"])}) started '
        f"{esc(when(run['started_at']))}, finished {esc(when(run['finished_at']))}. Thresholds: key age "
        f"&gt; {esc(run['thresholds']['max_key_age_days'])} d, unused &ge; "
        f"{esc(run['thresholds']['unused_key_days'])} d, never-used grace "
        f"{esc(run['thresholds']['never_used_grace_days'])} d. Schema {esc(report['schema_version'])}.</div>",
        _cards(report),
        '<div class="grid">',
        _by_severity(report),
        _by_rule(report),
        trend_chart(history),
        "</div>",
    ]
    return "\n".join(parts) + "\n"


PAGE_END = "</body></html>\n"


def _card(key: str, label: str, value: Any) -> str:
    return (
        f'<div class="card"><div class="n" data-count="{esc(key)}">{esc(value)}</div>'
        f'<div class="l">{esc(label)}</div></div>'
    )


def _cards(report: dict[str, Any]) -> str:
    summary = report["summary"]
    accounts = summary["accounts"]
    changes = report.get("changes") or {}
    cards = [
        _card("accounts-scanned", f"accounts scanned of {accounts['expected']}", accounts["scanned"]),
        _card("accounts-failed", "accounts failed", accounts["failed"]),
        _card("users", "users", summary["users"]),
        _card("active-access-keys", "active access keys", summary["active_access_keys"]),
        _card("findings-total", "findings", summary["findings"]["total"]),
        _card("findings-new", "new since last run", changes.get("new", "-")),
        _card("findings-resolved", "resolved since last run", changes.get("resolved", "-")),
    ]
    return '<h2>Summary</h2><div class="cards">' + "".join(cards) + "</div>"


def _by_severity(report: dict[str, Any]) -> str:
    counts = report["summary"]["findings"]["by_severity"]
    rows = "".join(
        f'<tr><td><span class="sev {esc(severity)}">{esc(severity)}</span></td>'
        f'<td class="num" data-count="severity-{esc(severity)}">{esc(count)}</td></tr>'
        for severity, count in counts.items()
    )
    header = "<tr><th>Severity</th><th>Findings</th></tr>"
    return f"<div><h2>Findings by severity</h2><table>{header}{rows}</table></div>"


def _by_rule(report: dict[str, Any]) -> str:
    counts = report["summary"]["findings"]["by_rule"]
    rows = "".join(
        f"<tr><td><code>{esc(rule_id)}</code><br><small>{esc(_RULE_TITLES.get(rule_id, ''))}</small></td>"
        f'<td class="num" data-count="rule-{esc(rule_id)}">{esc(count)}</td></tr>'
        for rule_id, count in counts.items()
    )
    return f"<div><h2>Findings by rule</h2><table><tr><th>Rule</th><th>Findings</th></tr>{rows}</table></div>"


def accounts_open() -> str:
    """The accounts table up to its first row."""
    header = (
        "<tr><th>Account</th><th>Name</th><th>Coverage</th><th>Users</th><th>Keys</th><th>Findings</th>"
        "<th>Critical+high</th><th>Error</th><th>Console</th></tr>"
    )
    return f"<h2>Accounts</h2><table>{header}"


def accounts_close() -> str:
    """The end of the accounts table."""
    return "</table>\n"


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


def _finding_row(finding: dict[str, Any], account_name: str) -> str:
    badge = ' <span class="new">new</span>' if finding.get("is_new") else ""
    account = f"{finding['account_id']} {account_name}".strip()
    seen = finding.get("first_seen_at")
    return (
        f'<tr><td><span class="sev {esc(finding["severity"])}">{esc(finding["severity"])}</span>{badge}</td>'
        f"<td><code>{esc(finding['rule_id'])}</code> <small>CIS {esc(finding['cis_control'])}</small></td>"
        f"<td>{esc(account)}</td><td>{esc(finding['user_name'] or '(root)')}</td>"
        f"<td><code>{esc(finding['access_key_id'] or '')}</code></td>"
        f'<td class="detail">{esc(finding["message"])}</td><td>{esc(format_tags(finding.get("tags")))}</td>'
        f'<td class="nowrap"><small title="{esc(when(seen))}">{esc(when(seen)[:10])}</small></td></tr>'
    )


_FINDING_HEADER = (
    "<tr><th>Severity</th><th>Rule</th><th>Account</th><th>User</th><th>Access key</th><th>Detail</th>"
    "<th>Tags</th><th>First seen</th></tr>"
)


def severity_order(finding: dict[str, Any]) -> tuple[int, str, str, str, str]:
    """Most severe first, then by account, user and rule: the page's order."""
    return (
        _SEVERITY_RANK.get(finding["severity"], 9),
        finding["account_id"],
        finding["user_name"] or "",
        finding["rule_id"],
        finding["finding_id"],
    )


def top_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The MAX_FINDING_ROWS most severe findings, in page order."""
    return sorted(findings, key=severity_order)[:MAX_FINDING_ROWS]


def findings_section(shown: list[tuple[dict[str, Any], str]], total: int) -> str:
    """The findings table: the most severe `shown` (finding, account name) pairs of `total`."""
    # A page of a hundred thousand rows helps nobody and costs the Lambda memory: the most severe
    # findings are listed, and the page says where the rest are.
    rows = "".join(_finding_row(finding, name) for finding, name in shown)
    note = (
        f'<p id="findings-truncated">The {len(shown)} most severe of {total} findings are listed; '
        "findings.csv and report.json hold them all.</p>"
        if total > len(shown)
        else ""
    )
    return f'<h2>Findings ({total})</h2>{note}<table id="findings">{_FINDING_HEADER}{rows}</table>\n'


def resolved_section(shown: list[tuple[dict[str, Any], str]], total: int) -> str:
    """The findings resolved since the baseline (the most severe of them)."""
    if not total:
        return "<h2>Resolved since last run (0)</h2>\n"
    rows = "".join(_finding_row(finding, name) for finding, name in shown)
    return f'<h2>Resolved since last run ({total})</h2><table id="resolved">{_FINDING_HEADER}{rows}</table>\n'


def banners(report: dict[str, Any]) -> str:
    """Warnings that open the page: a failed run (why, and the last good run), an unusable comparison."""
    run = report["run"]
    parts = []
    if run.get("status") == "failed":
        last_good = run.get("last_good_run") or {}
        link = (
            f' The last good run is <a href="{esc(last_good["href"])}">{esc(last_good["run_id"])}</a>.'
            if last_good.get("href")
            else " There is no earlier good run."
        )
        parts.append(
            f'<div class="banner failed" id="banner-failed"><b>This run failed:</b> '
            f"{esc(run.get('status_reason'))}. Its numbers are not the state of the estate, and it did not "
            f"replace the latest report.{link}</div>"
        )
    state = (report.get("changes") or {}).get("state") or {}
    if state.get("status") in ("unreadable", "incompatible"):
        parts.append(
            f'<div class="banner warn" id="banner-state"><b>No comparison:</b> the previous run\'s '
            f"comparison state is {esc(state['status'])} ({esc(state.get('detail'))}), so nothing is marked "
            "new or resolved and no notification was sent.</div>"
        )
    return "\n".join(parts)
