"""report.json for large runs, rendered one account at a time so memory stays flat.

Building the whole report as one dict before serialising it costs about 5 KB per user (a 100,000-user
run peaks near 600 MB). This renders the same bytes as render_report_json(build_report(result)) while
holding only the small parts of the report and one account's inventory as objects at a time.
"""

from __future__ import annotations

import io
import json
from typing import Any

from iam_inventory.models import RunResult
from iam_inventory.report import build_report, inventory_entry, render_report_json

# json.dumps escapes newlines inside strings, so this structural line can only be the key itself.
_EMPTY_INVENTORY = b'\n  "inventory": [],\n'


def render_report_json_lean(result: RunResult) -> tuple[dict[str, Any], bytes]:
    """The report without its inventory (for summaries and the CSV) and the full report.json bytes."""
    skeleton = build_report(result, include_inventory=False)
    rendered = render_report_json(skeleton)
    inventories = [item.inventory for item in result.accounts if item.inventory is not None]
    if not inventories:
        return skeleton, rendered
    head, marker, tail = rendered.partition(_EMPTY_INVENTORY)
    if not marker:
        raise ValueError("report layout changed: no empty inventory list to fill")
    buffer = io.BytesIO()
    buffer.write(head)
    buffer.write(b'\n  "inventory": [')
    separator = b"\n"
    for inventory in inventories:
        text = json.dumps(inventory_entry(inventory, result.context.started_at), indent=2, ensure_ascii=False)
        buffer.write(separator)
        buffer.write("\n".join("    " + line for line in text.split("\n")).encode())
        separator = b",\n"
    buffer.write(b"\n  ],\n")
    buffer.write(tail)
    return skeleton, buffer.getvalue()
