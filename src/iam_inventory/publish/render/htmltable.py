"""The page's finding tables and their offline filter and sort script, allowed by its hash in the CSP (pure).

The script is the only one on the page; the Content-Security-Policy names its sha256, so a browser runs
exactly these bytes and nothing else (no inline handlers, no other script). Without it the tables still
read top to bottom, most severe first.
https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Content-Security-Policy/script-src
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from iam_inventory.models import SEVERITY_ORDER
from iam_inventory.publish.render.htmlkit import esc, when

# Rows of the findings table; beyond this the page points at findings.csv (which has every finding).
MAX_FINDING_ROWS = 2_000
SEVERITY_RANK = {severity.value: rank for rank, severity in enumerate(SEVERITY_ORDER)}
FILTERS = ("severity", "rule", "credential", "owner", "account", "overdue")
# Filters come from the selects, or from the address: index.html#owner=team-a&severity=critical.
FILTER_SCRIPT = """(function(){
var table=document.getElementById('findings');if(!table)return;
var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
var keys=['severity','rule','credential','owner','account','overdue'];
function sel(k){return document.getElementById('f-'+k);}
function apply(){var shown=0;rows.forEach(function(r){
var ok=keys.every(function(k){var s=sel(k);return !s.value||r.getAttribute('data-'+k)===s.value;});
r.hidden=!ok;if(ok)shown++;});document.getElementById('f-shown').textContent=String(shown);}
var wanted={};location.hash.replace(/^#/,'').split('&').forEach(function(p){
var i=p.indexOf('=');if(i>0)wanted[decodeURIComponent(p.slice(0,i))]=decodeURIComponent(p.slice(i+1));});
keys.forEach(function(k){var s=sel(k),seen={};
rows.forEach(function(r){seen[r.getAttribute('data-'+k)]=1;});
Object.keys(seen).sort().forEach(function(v){var o=document.createElement('option');
o.value=v;o.textContent=v;s.appendChild(o);});
if(wanted[k]!==undefined)s.value=wanted[k];s.addEventListener('change',apply);});
Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th){var k=th.getAttribute('data-sort');
if(!k)return;th.style.cursor='pointer';th.addEventListener('click',function(){
var dir=th.getAttribute('data-dir')==='asc'?-1:1;th.setAttribute('data-dir',dir>0?'asc':'desc');
rows.sort(function(a,b){var x=a.getAttribute('data-'+k),y=b.getAttribute('data-'+k);
var n=Number(x)-Number(y);return dir*(isNaN(n)?x.localeCompare(y):n);});
rows.forEach(function(r){body.appendChild(r);});});});
document.getElementById('filters').hidden=false;apply();})();"""
SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(FILTER_SCRIPT.encode()).digest()).decode()


def filter_bar() -> str:
    """The filter controls (hidden until the script fills them, so a page without scripts shows none)."""
    selects = "".join(
        f'<label>{esc(key)} <select id="f-{esc(key)}"><option value="">all</option></select></label> '
        for key in FILTERS
    )
    return f'<div id="filters" class="filters" hidden>{selects}<span><b id="f-shown"></b> shown</span></div>'


def script_tag() -> str:
    """The filter script, exactly the bytes SCRIPT_HASH allows."""
    return f"<script>{FILTER_SCRIPT}</script>\n"


def severity_order(finding: dict[str, Any]) -> tuple[int, str, str, str, str]:
    """Most severe first, then by account, user and rule: the page's order."""
    return (
        SEVERITY_RANK.get(finding["severity"], 9),
        finding["account_id"],
        finding["user_name"] or "",
        finding["rule_id"],
        finding["finding_id"],
    )


def top_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The MAX_FINDING_ROWS most severe findings, in page order."""
    return sorted(findings, key=severity_order)[:MAX_FINDING_ROWS]


def finding_row(finding: dict[str, Any], account_name: str) -> str:
    """One finding: severity (raised and new marks), rule, account, user, credential, owner, age, fix."""
    severity = finding["severity"]
    marks = ' <span class="new">new</span>' if finding.get("is_new") else ""
    if finding.get("privileged"):
        reason = finding.get("privileged_reason") or ""
        marks += f' <span class="priv" title="{esc(reason)}">privileged</span>'
    overdue = bool(finding.get("overdue"))
    days = finding.get("days_open")
    age = (
        f"{esc(days)} d" + (' <span class="overdue">overdue</span>' if overdue else "")
        if days is not None
        else ""
    )
    seen = finding.get("first_seen_at")
    owner = finding.get("owner") or "unowned"
    exception = finding.get("exception") or {}
    note = ""
    if finding.get("suppressed_by"):
        until, why = esc(exception.get("expires")), esc(exception.get("reason"))
        note = f"<br><small>suppressed by <b>{esc(finding['suppressed_by'])}</b> until {until}: {why}</small>"
    elif finding.get("exception_note"):
        ended = f"{esc(exception.get('id'))} ended {esc(exception.get('expires'))}"
        note = f'<br><small class="expired">{esc(finding["exception_note"])}: {ended}</small>'
    attributes = {
        "severity": severity,
        "rank": SEVERITY_RANK.get(severity, 9),
        "rule": finding["rule_id"],
        # Reports before 1.6 name no credential kind: their findings were about keys and passwords.
        "credential": finding.get("credential_type") or "none",
        "owner": owner,
        "account": finding["account_id"],
        "overdue": "overdue" if overdue else "on time",
        "days": days if days is not None else "",
        "user": finding["user_name"] or "",
    }
    data = " ".join(f'data-{name}="{esc(value)}"' for name, value in attributes.items())
    account = f"{finding['account_id']} {account_name}".strip()
    control = finding["cis_control"]
    cis = f" <small>CIS {esc(control)}</small>" if control else ""
    return (
        f'<tr {data}><td><span class="sev {esc(severity)}">{esc(severity)}</span>{marks}</td>'
        f"<td><code>{esc(finding['rule_id'])}</code>{cis}</td>"
        f"<td>{esc(account)}</td><td>{esc(finding['user_name'] or '(root)')}</td>"
        f'<td class="cid"><code>{esc(finding.get("credential_id") or finding["access_key_id"] or "")}</code>'
        f"<br><small>{esc(finding.get('credential_type') or '')}</small></td>"
        f"<td>{esc(owner)}<br><small>{esc(finding.get('owner_source') or '')}</small></td>"
        f'<td class="nowrap">{age}<br><small title="{esc(when(seen))}">{esc(when(seen)[:10])}</small></td>'
        f'<td class="detail">{esc(finding["message"])}{note}{remediation_cell(finding)}</td></tr>'
    )


def remediation_cell(finding: dict[str, Any]) -> str:
    """The fix: its text, and the exact commands in a fold (the job itself never runs them)."""
    remediation = finding.get("remediation")
    if not isinstance(remediation, dict):
        return ""
    commands = "\n".join(remediation.get("commands") or [])
    fold = f"<details><summary>commands</summary><pre>{esc(commands)}</pre></details>" if commands else ""
    return f'<div class="fix"><b>Fix:</b> {esc(remediation.get("text"))}{fold}</div>'


_HEADER = (
    '<thead><tr><th data-sort="rank">Severity</th><th data-sort="rule">Rule</th><th data-sort="account">'
    'Account</th><th data-sort="user">User</th><th>Credential</th><th data-sort="owner">Owner</th>'
    '<th data-sort="days">Open</th><th>Detail and fix</th></tr></thead>'
)


def table(table_id: str, shown: list[tuple[dict[str, Any], str]]) -> str:
    """A findings table of (finding, account name) pairs."""
    rows = "".join(finding_row(finding, name) for finding, name in shown)
    return f'<table id="{esc(table_id)}">{_HEADER}<tbody>{rows}</tbody></table>\n'


def findings_section(shown: list[tuple[dict[str, Any], str]], total: int) -> str:
    """The findings table, first on the page: the most severe `shown` (finding, account name) of `total`."""
    # A page of a hundred thousand rows helps nobody and costs the Lambda memory: the most severe
    # findings are listed, and the page says where the rest are.
    note = (
        f'<p id="findings-truncated">The {len(shown)} most severe of {total} findings are listed; '
        "findings.csv and report.json hold them all.</p>"
        if total > len(shown)
        else ""
    )
    return f"<h2>Findings ({total})</h2>{note}{filter_bar()}{table('findings', shown)}"


def suppressed_section(
    shown: list[tuple[dict[str, Any], str]], total: int, stale: list[dict[str, Any]]
) -> str:
    """Findings accepted by an unexpired exception, and exceptions that matched nothing (stale)."""
    parts = [f"<h2>Suppressed by an exception ({total})</h2>"]
    if total:
        parts.append(table("suppressed", shown))
    if stale:
        items = "".join(
            f"<li><b>{esc(item['id'])}</b> ({esc(item['owner'])}, expires {esc(item['expires'])}): "
            f"{esc(item['reason'])}</li>"
            for item in stale
        )
        parts.append(
            f'<p>Stale exceptions (they matched no finding; remove them):</p><ul id="stale">{items}</ul>'
        )
    return "".join(parts) + "\n"


def resolved_section(shown: list[tuple[dict[str, Any], str]], total: int) -> str:
    """The findings resolved since the baseline (the most severe of them)."""
    if not total:
        return "<h2>Resolved since last run (0)</h2>\n"
    return f"<h2>Resolved since last run ({total})</h2>{table('resolved', shown)}"
