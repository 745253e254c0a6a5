"""JSON Lines for Athena, written into the run folder and made visible only when the run is committed.

A run's rows are `<run folder>/findings.jsonl` and `<run folder>/inventory.jsonl`. Athena reads every
file under a table location, and a run folder also holds report.json and the CSVs, so the tables do
not point at the run folders: they use SymlinkTextInputFormat over manifests, `athena/<table>/dt=<day>/
<run_id>.manifest`, each naming one run's JSONL file (https://athena.guide/articles/stitching-tables-
with-symlinktextinputformat/). The manifests and the `runs` table row are the commit: written after
every run file, so a run that stops half-way is in no table. The Glue tables in template.yaml read the
rows with the OpenX JSON SerDe and partition projection on `dt`; a contract test keeps every field here
equal to a column there. Timestamps stay ISO 8601 strings (query them with from_iso8601_timestamp).
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from iam_inventory.core.clock import parse_iso
from iam_inventory.publish.render.rows import FINDINGS_CSV_COLUMNS, INVENTORY_CSV_COLUMNS

FINDINGS_TABLE = "findings"
INVENTORY_TABLE = "inventory"
RUNS_TABLE = "runs"
ATHENA_ROOT = "athena"
# Per-run columns in front of the CSV columns: which run a row came from.
RUN_COLUMNS: tuple[str, ...] = ("run_id", "run_started_at")
FINDINGS_JSONL_FIELDS: tuple[str, ...] = (*RUN_COLUMNS, *FINDINGS_CSV_COLUMNS)
INVENTORY_JSONL_FIELDS: tuple[str, ...] = (*RUN_COLUMNS, *INVENTORY_CSV_COLUMNS)
RUNS_FIELDS: tuple[str, ...] = (
    "run_id",
    "run_started_at",
    "folder",
    "status",
    "trigger",
    "baseline",
    "findings",
    "accounts_scanned",
    "accounts_failed",
)


def partition_day(started_at: str) -> str:
    """The `dt` partition of a run: the UTC day it started."""
    started = parse_iso(started_at)
    return started.astimezone(UTC).strftime("%Y-%m-%d")


def manifest_key(table: str, started_at: str, run_id: str) -> str:
    """Where a run's symlink manifest for `table` goes (relative to the report root)."""
    return f"{ATHENA_ROOT}/{table}/dt={partition_day(started_at)}/{run_id}.manifest"


def runs_key(started_at: str, run_id: str) -> str:
    """Where a run's row of the `runs` table goes: written last, it commits the run for Athena."""
    return f"{ATHENA_ROOT}/{RUNS_TABLE}/dt={partition_day(started_at)}/{run_id}.json"


# One encoder for every line: json.dumps with options builds a new one per call.
_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def jsonl_line(fields: tuple[str, ...], run: dict[str, Any], row: dict[str, Any]) -> str:
    """One JSON Lines row: the run columns, then the row's fields, in `fields` order."""
    merged = {**run, **row}
    return _LINE_ENCODER.encode({name: merged[name] for name in fields}) + "\n"
