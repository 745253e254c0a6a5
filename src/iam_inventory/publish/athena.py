"""JSON Lines for Athena: `findings/dt=YYYY-MM-DD/<run_id>.jsonl` and the same under `inventory/`.

The Glue tables in template.yaml read these with the OpenX JSON SerDe and partition projection on
`dt`; a contract test keeps every field here equal to a column there. Timestamps stay ISO 8601
strings (query them with from_iso8601_timestamp): the SerDe's own timestamp parsing is format-picky.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

from iam_inventory.publish.report import (
    FINDINGS_CSV_COLUMNS,
    INVENTORY_CSV_COLUMNS,
    finding_rows,
    inventory_rows,
)

FINDINGS_TABLE = "findings"
INVENTORY_TABLE = "inventory"
# Per-run columns in front of the CSV columns: which run a row came from.
RUN_COLUMNS: tuple[str, ...] = ("run_id", "run_started_at")
FINDINGS_JSONL_FIELDS: tuple[str, ...] = (*RUN_COLUMNS, *FINDINGS_CSV_COLUMNS)
INVENTORY_JSONL_FIELDS: tuple[str, ...] = (*RUN_COLUMNS, *INVENTORY_CSV_COLUMNS)


def partition_day(report: dict[str, Any]) -> str:
    """The `dt` partition of a run: the UTC day it started."""
    started = datetime.fromisoformat(report["run"]["started_at"].replace("Z", "+00:00"))
    return started.astimezone(UTC).strftime("%Y-%m-%d")


def partition_key(table: str, report: dict[str, Any]) -> str:
    """Deterministic key of a run's rows in a table: a retried run overwrites its own file."""
    return f"{table}/dt={partition_day(report)}/{report['run']['run_id']}.jsonl"


def _jsonl(fields: tuple[str, ...], report: dict[str, Any], rows: list[dict[str, Any]]) -> bytes:
    run = {"run_id": report["run"]["run_id"], "run_started_at": report["run"]["started_at"]}
    # Written line by line into one buffer: a list of every line first would double the memory.
    buffer = io.BytesIO()
    for row in rows:
        line = {field: {**run, **row}[field] for field in fields}
        buffer.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode())
        buffer.write(b"\n")
    return buffer.getvalue()


def render_findings_jsonl(report: dict[str, Any]) -> bytes:
    """One JSON object per finding, fields in FINDINGS_JSONL_FIELDS order."""
    return _jsonl(FINDINGS_JSONL_FIELDS, report, finding_rows(report))


def render_inventory_jsonl(report: dict[str, Any]) -> bytes:
    """One JSON object per access key (and per user without keys), fields in INVENTORY_JSONL_FIELDS order."""
    return _jsonl(INVENTORY_JSONL_FIELDS, report, inventory_rows(report))
