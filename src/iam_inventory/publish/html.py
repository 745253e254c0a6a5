"""`index.html`: one self-contained page (no scripts, fonts or CDNs) a security engineer can open from S3.

Every value from the report passes through `esc`: user names, tags and error messages come from the
spoke accounts, and a tag value is as good a place for `<script>` as any.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from typing import Any
from urllib.parse import urlencode

from iam_inventory.evaluate.rules import RULES
from iam_inventory.models import SEVERITY_ORDER
from iam_inventory.publish.report import format_tags

SWITCH_ROLE_URL = "https://signin.aws.amazon.com/switchrole"
# Rows of the findings table; beyond this the page points at findings.csv (which has every finding).
MAX_FINDING_ROWS = 2_000
_RULE_TITLES = {rule.rule_id: rule.title for rule in RULES}
_SEVERITY_RANK = {severity.value: rank for rank, severity in enumerate(SEVERITY_ORDER)}
# The page loads nothing from anywhere: the policy makes a browser refuse it even if markup slipped in.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px}
body{color:#1d2330;background:#f6f7f9}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#5b6475;margin-bottom:16px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #dfe3ea;border-radius:8px;padding:10px 16px;min-width:120px}
.card .n{font-size:26px;font-weight:600}.card .l{color:#5b6475;font-size:12px;text-transform:uppercase}
table{border-collapse:collapse;background:#fff;border:1px solid #dfe3ea;margin-bottom:8px}
th,td{padding:5px 10px;border-bottom:1px solid #eef0f4;text-align:left;vertical-align:top}
th{background:#eef1f6;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.sev{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;font-weight:600;color:#fff}
.critical{background:#8b1a1a}.high{background:#d9480f}.medium{background:#e0a100}.low{background:#5c7cfa}
.status-scanned{color:#2b8a3e}.status-failed{color:#c92a2a;font-weight:600}.status-skipped{color:#868e96}
.new{background:#fff3bf;border-radius:4px;padding:0 5px;font-size:12px}
.grid{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
svg text{font:11px system-ui,sans-serif;fill:#5b6475}.nowrap{white-space:nowrap}td.detail{min-width:180px}
"""


def esc(value: Any) -> str:
    """HTML-escaped text of any value (None is empty)."""
    return "" if value is None else escape(str(value), quote=True)


def when(timestamp: str | None) -> str:
    """An ISO 8601 timestamp shortened for people: `2026-11-23 06:00 UTC`."""
    if not timestamp:
        return ""
    text = str(timestamp)
    return f"{text[:10]} {text[11:16]} UTC" if len(text) >= 16 and text[10] == "T" else text


def switch_role_link(account_id: str, role_name: str, display_name: str = "") -> str:
    """The console's switch-role URL for an account (not yet HTML-escaped)."""
    query = {"account": account_id, "roleName": role_name}
    if display_name:
        query["displayName"] = display_name[:64]
    return f"{SWITCH_ROLE_URL}?{urlencode(query)}"


def render_html(
    report: dict[str, Any], history: list[dict[str, Any]] | None = None, console_role_name: str | None = None
) -> bytes:
    """The whole page for one report; `history` (oldest first) feeds the trend chart."""
    run = report["run"]
    role = console_role_name or run["role_name"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>IAM inventory - {esc(run['run_id'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
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
        _trend(history or []),
        "</div>",
        _accounts(report, role),
        _findings(report),
        _resolved(report),
        "</body></html>",
    ]
    return ("\n".join(parts) + "\n").encode()


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


def _trend(history: list[dict[str, Any]]) -> str:
    """An inline SVG line of findings per run (and critical+high), oldest on the left."""
    width, height, pad = 460, 180, 30
    title = "<h2>Trend over the last runs</h2>"
    if len(history) < 2:
        return f"<div>{title}<p>The chart appears after the second run ({len(history)} so far).</p></div>"
    totals = [int(item.get("findings", 0)) for item in history]
    urgent = [
        int(item.get("by_severity", {}).get("critical", 0)) + int(item.get("by_severity", {}).get("high", 0))
        for item in history
    ]
    top = max([*totals, 1])
    step = (width - 2 * pad) / (len(history) - 1)

    def point(index: int, value: int) -> tuple[float, float]:
        return pad + index * step, height - pad - (value / top) * (height - 2 * pad)

    def line(values: list[int], colour: str, name: str) -> str:
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, v) for i, v in enumerate(values)))
        dots = "".join(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{esc(history[i]["run_id"])}: '
            f"{esc(v)} {esc(name)}</title></circle>"
            for i, v in enumerate(values)
            for x, y in [point(i, v)]
        )
        return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>{dots}'

    axis = (
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#adb5bd"/>'
        f'<text x="4" y="{pad + 4}">{top}</text><text x="4" y="{height - pad + 4}">0</text>'
        f'<text x="{pad}" y="{height - 8}">{esc(when(history[0].get("started_at")))}</text>'
        f'<text x="{width - pad}" y="{height - 8}" text-anchor="end">'
        f"{esc(when(history[-1].get('started_at')))}</text>"
    )
    legend = (
        f'<text x="{pad}" y="14" fill="#1d2330">&#9632; findings</text>'
        f'<text x="{pad + 90}" y="14" style="fill:#d9480f">&#9632; critical + high</text>'
    )
    svg = (
        f'<svg role="img" aria-label="findings per run" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" data-runs="{len(history)}">'
        f"{axis}{legend}{line(totals, '#1d2330', 'findings')}{line(urgent, '#d9480f', 'critical+high')}</svg>"
    )
    return f"<div>{title}{svg}</div>"


def _accounts(report: dict[str, Any], role: str) -> str:
    by_account: dict[str, Counter[str]] = {}
    for finding in report["findings"]:
        by_account.setdefault(finding["account_id"], Counter())[finding["severity"]] += 1
    rows = []
    for account in report["accounts"]:
        counts = by_account.get(account["account_id"], Counter())
        link = switch_role_link(account["account_id"], role, account["name"])
        error = f"{account['error_code'] or ''} {account['error_message'] or ''}".strip()
        rows.append(
            f'<tr data-account="{esc(account["account_id"])}"><td>{esc(account["account_id"])}</td>'
            f"<td>{esc(account['name'])}</td>"
            f'<td class="status-{esc(account["status"])}">{esc(account["status"])}</td>'
            f'<td class="num">{esc(account["users"])}</td><td class="num">{esc(account["access_keys"])}</td>'
            f'<td class="num">{esc(account["findings"])}</td>'
            f'<td class="num">{esc(counts["critical"] + counts["high"])}</td>'
            f"<td><small>{esc(error)}</small></td>"
            f'<td class="nowrap"><a href="{esc(link)}" rel="noopener noreferrer">switch role</a></td></tr>'
        )
    header = (
        "<tr><th>Account</th><th>Name</th><th>Coverage</th><th>Users</th><th>Keys</th><th>Findings</th>"
        "<th>Critical+high</th><th>Error</th><th>Console</th></tr>"
    )
    return f"<h2>Accounts</h2><table>{header}{''.join(rows)}</table>"


def _finding_row(finding: dict[str, Any], names: dict[str, str], new_ids: set[str]) -> str:
    badge = ' <span class="new">new</span>' if finding["finding_id"] in new_ids else ""
    account = f"{finding['account_id']} {names.get(finding['account_id'], '')}".strip()
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


def _sorted(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        findings,
        key=lambda f: (
            _SEVERITY_RANK.get(f["severity"], 9),
            f["account_id"],
            f["user_name"] or "",
            f["rule_id"],
        ),
    )


def _findings(report: dict[str, Any]) -> str:
    names = {account["account_id"]: account["name"] for account in report["accounts"]}
    new_ids = set((report.get("changes") or {}).get("new_finding_ids", []))
    # A page of a hundred thousand rows helps nobody and costs the Lambda memory: the most severe
    # findings are listed, and the page says where the rest are.
    shown = _sorted(report["findings"])[:MAX_FINDING_ROWS]
    rows = "".join(_finding_row(finding, names, new_ids) for finding in shown)
    total = len(report["findings"])
    note = (
        f'<p id="findings-truncated">The {len(shown)} most severe of {total} findings are listed; '
        "findings.csv and report.json hold them all.</p>"
        if total > len(shown)
        else ""
    )
    return f'<h2>Findings ({total})</h2>{note}<table id="findings">{_FINDING_HEADER}{rows}</table>'


def _resolved(report: dict[str, Any]) -> str:
    resolved = (report.get("changes") or {}).get("resolved_findings", [])
    if not resolved:
        return "<h2>Resolved since last run (0)</h2>"
    names = {account["account_id"]: account["name"] for account in report["accounts"]}
    rows = "".join(_finding_row(finding, names, set()) for finding in _sorted(resolved)[:MAX_FINDING_ROWS])
    return (
        f"<h2>Resolved since last run ({len(resolved)})</h2>"
        f'<table id="resolved">{_FINDING_HEADER}{rows}</table>'
    )
