"""Building blocks of the HTML page: escaping, times, the style sheet and the trend chart (pure)."""

from __future__ import annotations

from html import escape
from typing import Any

# The page loads nothing from anywhere: the policy makes a browser refuse it even if markup slipped in.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
STYLE = """
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
.banner{border-radius:8px;padding:10px 16px;margin-bottom:16px;color:#fff}
.failed{background:#c92a2a}.warn{background:#e67700}
.grid{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
svg text{font:11px system-ui,sans-serif;fill:#5b6475}.nowrap{white-space:nowrap}td.detail{min-width:260px}
td.cid code{word-break:break-all}
.priv{background:#212529;color:#fff;border-radius:4px;padding:0 5px;font-size:12px}
.overdue{background:#c92a2a;color:#fff;border-radius:4px;padding:0 5px;font-size:12px}
.expired{color:#c92a2a}.fix{margin-top:4px;color:#343a40}
.fix pre{white-space:pre-wrap;font-size:12px;margin:4px 0}
.filters{background:#fff;border:1px solid #dfe3ea;border-radius:8px;padding:8px 12px;margin-bottom:8px}
.filters label{margin-right:10px}.owners{display:flex;flex-wrap:wrap;gap:12px}
.owner{background:#fff;border:1px solid #dfe3ea;border-radius:8px;padding:4px 14px;min-width:220px}
.owner h3{font-size:15px;margin:6px 0}details>summary{cursor:pointer;margin:8px 0}
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


def trend_chart(history: list[dict[str, Any]]) -> str:
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


def credentials_table(report: dict[str, Any]) -> str:
    """The summary's count of each credential kind, active of total ("" for reports before 1.6)."""
    counts = report["summary"].get("credentials")
    if not counts:
        return ""
    rows = "".join(
        f"<tr><td><code>{esc(kind)}</code></td>"
        f'<td class="num" data-count="credentials-{esc(kind)}">{esc(item["total"])}</td>'
        f'<td class="num" data-count="active-{esc(kind)}">{esc(item["active"])}</td></tr>'
        for kind, item in counts.items()
    )
    header = "<tr><th>Credential</th><th>Held</th><th>Active</th></tr>"
    return f"<div><h2>Credentials by type</h2><table>{header}{rows}</table></div>"
