"""`index.html`: one self-contained page (no fonts, CDNs or outside scripts) an analyst works from.

Findings come first (filterable and sortable offline, each with its fix), then owners, then accounts:
those with findings or errors first, the rest folded away. One inline script, allowed by its hash.

Every value from the report passes through `esc`: user names, tags and error messages come from the
spoke accounts, and a tag value is as good a place for `<script>` as any.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from iam_inventory.evaluate.rules import rule_title
from iam_inventory.publish.render.html_accounts import (
    ACCOUNTS_END,
    URGENT,
    account_row,
    accounts_close,
    accounts_open,
    needs_attention,
)
from iam_inventory.publish.render.htmlkit import CSP, STYLE, credentials_table, esc, trend_chart, when
from iam_inventory.publish.render.htmltable import (
    SCRIPT_HASH,
    findings_section,
    resolved_section,
    script_tag,
    suppressed_section,
    top_findings,
)


def render_html(
    report: dict[str, Any], history: list[dict[str, Any]] | None = None, console_role_name: str | None = None
) -> bytes:
    """The page of a report held in memory (the `report` command); publishing streams the same parts."""
    names = {account["account_id"]: account["name"] for account in report["accounts"]}
    urgent: Counter[str] = Counter(
        finding["account_id"] for finding in report["findings"] if finding["severity"] in URGENT
    )
    rows: dict[bool, list[str]] = {True: [], False: []}
    for account in report["accounts"]:
        row = account_row(account, urgent[account["account_id"]], console_role_name)
        rows[needs_attention(account)].append(row)

    def named(findings: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
        return [(finding, names.get(finding["account_id"], "")) for finding in top_findings(findings)]

    suppressed = report.get("suppressed", [])
    resolved = (report.get("changes") or {}).get("resolved_findings", [])
    parts = [
        page_top(
            report, named(report["findings"]), len(report["findings"]), named(suppressed), len(suppressed)
        ),
        accounts_open(len(rows[True])),
        *rows[True],
        accounts_close(len(rows[False])),
        *rows[False],
        page_bottom(report, history or [], named(resolved), len(resolved)),
    ]
    return "".join(parts).encode()


def page_top(
    report: dict[str, Any],
    findings: list[tuple[dict[str, Any], str]],
    total: int,
    suppressed: list[tuple[dict[str, Any], str]],
    suppressed_total: int,
) -> str:
    """Head, counts, the findings table, the suppressed ones and the owners: all before the accounts."""
    stale = (report.get("exceptions") or {}).get("stale", [])
    return "".join(
        (
            page_head(report),
            findings_section(findings, total),
            suppressed_section(suppressed, suppressed_total, stale),
            owners_section(report.get("owners") or []),
        )
    )


def page_bottom(
    report: dict[str, Any],
    history: list[dict[str, Any]],
    resolved: list[tuple[dict[str, Any], str]],
    total: int,
) -> str:
    """After the accounts: the counts by severity and rule, the trend, the resolved findings, the script."""
    overview = f'<div class="grid">{_by_severity(report)}{_by_rule(report)}{trend_chart(history)}</div>\n'
    return ACCOUNTS_END + overview + resolved_section(resolved, total) + script_tag() + PAGE_END


def page_head(report: dict[str, Any]) -> str:
    """The top of the page: banners, run line and counts (`report` without its lists)."""
    run = report["run"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}; script-src \'{SCRIPT_HASH}\'">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>IAM inventory - {esc(run['run_id'])}</title>",
        f"<style>{STYLE}</style></head><body>",
        banners(report),
        "<h1>IAM users and their credentials</h1>",
        f'<div class="meta">Run <b>{esc(run["run_id"])}</b> ({esc(run["trigger"])}) started '
        f"{esc(when(run['started_at']))}, finished {esc(when(run['finished_at']))}. Thresholds: key age "
        f"&gt; {esc(run['thresholds']['max_key_age_days'])} d, unused &ge; "
        f"{esc(run['thresholds']['unused_key_days'])} d, never-used grace "
        f"{esc(run['thresholds']['never_used_grace_days'])} d{_api_key_limit(run['thresholds'])}. "
        f"Schema {esc(report['schema_version'])}.</div>",
        _cards(report),
        credentials_table(report),
    ]
    return "\n".join(parts) + "\n"


PAGE_END = "</body></html>\n"


def _api_key_limit(thresholds: dict[str, Any]) -> str:
    # Reports before 1.6 have no API key threshold.
    limit = thresholds.get("max_api_key_lifetime_days")
    return "" if limit is None else f", API key lifetime &le; {esc(limit)} d"


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
        _card(
            "findings-critical", "critical findings", summary["findings"]["by_severity"].get("critical", 0)
        ),
        _card("findings-total", "findings", summary["findings"]["total"]),
        _card(
            "findings-overdue",
            "overdue",
            sum((summary["findings"].get("overdue_by_severity") or {}).values()),
        ),
        _card("findings-suppressed", "suppressed", summary["findings"].get("suppressed", 0)),
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
        f"<tr><td><code>{esc(rule_id)}</code><br><small>{esc(rule_title(rule_id))}</small></td>"
        f'<td class="num" data-count="rule-{esc(rule_id)}">{esc(count)}</td></tr>'
        for rule_id, count in counts.items()
    )
    return f"<div><h2>Findings by rule</h2><table><tr><th>Rule</th><th>Findings</th></tr>{rows}</table></div>"


def owners_section(owners: list[dict[str, Any]]) -> str:
    """A section per owner: its findings by severity, overdue and suppressed, and its own CSV."""
    parts = [f'<h2>Owners ({len(owners)})</h2><div class="owners">']
    for owner in owners:
        counts = " ".join(
            f'<span class="sev {esc(severity)}">{esc(count)} {esc(severity)}</span>'
            for severity, count in owner["by_severity"].items()
            if count
        )
        parts.append(
            f'<section class="owner" data-owner="{esc(owner["owner"])}"><h3>{esc(owner["owner"])}</h3>'
            f"<p>{esc(owner['findings'])} findings in {esc(owner['accounts'])} accounts {counts}<br>"
            f"{esc(owner['overdue'])} overdue, {esc(owner['suppressed'])} suppressed. "
            f'<a href="{esc(owner["file"])}">{esc(owner["file"])}</a></p></section>'
        )
    return "".join(parts) + "</div>\n"


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
