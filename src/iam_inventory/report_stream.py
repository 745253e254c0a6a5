"""report.json and findings.csv for large runs, rendered in slices so memory stays flat.

Building the whole report as one dict before serialising it costs several KB per user and per finding
(a 100,000-user run peaked near 800 MB). These render the same bytes as render_report_json(build_report())
and render_findings_csv(build_report()) while holding only the report's small parts, plus one account's
inventory or one batch of findings, as objects at a time.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from iam_inventory.models import RunResult
from iam_inventory.report import (
    build_report,
    finding_entry,
    inventory_entry,
    render_findings_csv,
    render_report_json,
)

_BATCH = 1000
# json.dumps escapes newlines inside strings, so this structural ending can only be the report's own.
_EMPTY_TAIL = b'\n  "inventory": [],\n  "findings": []\n}\n'


def _batches(items: Iterable[Any]) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_list(buffer: io.BytesIO, batches: Iterable[list[dict[str, Any]]]) -> None:
    """A top-level list value exactly as json.dumps(indent=2) writes it, one batch at a time."""
    opened = False
    for batch in batches:
        if not batch:
            continue
        text = json.dumps(batch, indent=2, ensure_ascii=False)
        # The batch's own "[\n" and "\n]" go; its items move one level deeper.
        inner = "\n".join("  " + line for line in text[2:-2].split("\n"))
        buffer.write(b",\n" if opened else b"[\n")
        buffer.write(inner.encode())
        opened = True
    buffer.write(b"\n  ]" if opened else b"[]")


def render_report_json_lean(result: RunResult) -> tuple[dict[str, Any], bytes]:
    """The report without inventory and findings (for summaries) and the full report.json bytes."""
    skeleton = build_report(result, include_inventory=False, include_findings=False)
    rendered = render_report_json(skeleton)
    if not rendered.endswith(_EMPTY_TAIL):
        raise ValueError("report layout changed: inventory and findings are no longer the last keys")
    now = result.context.started_at
    buffer = io.BytesIO()
    buffer.write(rendered[: -len(_EMPTY_TAIL)])
    buffer.write(b'\n  "inventory": ')
    inventories = (item.inventory for item in result.accounts if item.inventory is not None)
    _write_list(buffer, ([inventory_entry(inventory, now)] for inventory in inventories))
    buffer.write(b',\n  "findings": ')
    _write_list(
        buffer, ([finding_entry(finding) for finding in batch] for batch in _batches(result.findings))
    )
    buffer.write(b"\n}\n")
    return skeleton, buffer.getvalue()


def render_findings_csv_lean(result: RunResult, skeleton: dict[str, Any]) -> bytes:
    """findings.csv, rendered a batch of findings at a time."""
    buffer = io.BytesIO()
    for index, batch in enumerate(_batches(result.findings)):
        findings = [finding_entry(finding) for finding in batch]
        chunk = render_findings_csv({"accounts": skeleton["accounts"], "findings": findings})
        # Every chunk starts with the header row; keep only the first.
        buffer.write(chunk if index == 0 else chunk.split(b"\n", 1)[1])
    if not result.findings:
        buffer.write(render_findings_csv({"accounts": [], "findings": []}))
    return buffer.getvalue()
