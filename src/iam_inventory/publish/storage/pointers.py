"""Where a run is published, and the commit that makes it visible: Athena manifests, runs row, latest.json.

Every run file is written first. Then the run is committed: its Athena manifests and its `runs` row
(so the documented queries see it), and, only for a run that becomes the baseline, latest.json. A run
that stops before the commit is invisible to latest.json, to the next run's comparison and to Athena.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from iam_inventory.compare.state import LATEST_KEY
from iam_inventory.core.clock import iso
from iam_inventory.models import RunContext
from iam_inventory.publish.render.athena import (
    FINDINGS_TABLE,
    INVENTORY_TABLE,
    RUNS_FIELDS,
    manifest_key,
    runs_key,
)
from iam_inventory.publish.render.report import SCHEMA_VERSION
from iam_inventory.publish.spool import ReportFile, Spool
from iam_inventory.publish.written import Written

MANUAL_ROOT = "manual"


def dated_folder(context: RunContext) -> str:
    """`runs/dt=<start day>/<run id>`: fixed by the run's start day and id, so a retry finds it again."""
    day = context.started_at.astimezone(UTC).strftime("%Y-%m-%d")
    return f"runs/dt={day}/{context.run_id}"


def run_folder(context: RunContext) -> str:
    """Deterministic folder of a run (a retry overwrites its own files); overriding runs go under manual/."""
    folder = dated_folder(context)
    return f"{MANUAL_ROOT}/{folder}" if context.overrides else folder


def _small(name: str, key: str, text: str, content_type: str) -> ReportFile:
    body = Spool()
    body.write(text)
    return ReportFile(name, key, content_type, body, flat=False)


def commit_files(written: Written, location_base: str) -> list[ReportFile]:
    """The Athena commit: one symlink manifest per table naming the run's JSONL, then the `runs` row."""
    summary = written.summary
    run_id, started_at, folder = summary.run_id, summary.started_at, summary.folder
    files = [
        _small(
            f"{table}.manifest",
            manifest_key(table, started_at, run_id),
            f"{location_base}{folder}/{table}.jsonl\n",
            "text/plain",
        )
        for table in (FINDINGS_TABLE, INVENTORY_TABLE)
    ]
    accounts = summary.counts.accounts
    row = {
        "run_id": run_id,
        "run_started_at": started_at,
        "folder": folder,
        "status": summary.verdict.status.value,
        "trigger": summary.context.trigger,
        "baseline": summary.verdict.baseline,
        "findings": summary.counts.findings,
        "accounts_scanned": accounts.scanned,
        "accounts_failed": accounts.failed + accounts.not_scanned,
    }
    line = json.dumps({name: row[name] for name in RUNS_FIELDS}, separators=(",", ":")) + "\n"
    files.append(_small("runs.json", runs_key(started_at, run_id), line, "application/json"))
    return files


def latest_pointer(written: Written, keys: dict[str, str]) -> ReportFile:
    """latest.json: the baseline run's folder, files and summary."""
    summary = written.summary
    pointer: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": summary.run_id,
        "finished_at": iso(summary.finished_at),
        "status": summary.verdict.status.value,
        "folder": summary.folder,
        "files": keys,
        "summary": summary.counts.to_dict(),
    }
    return _small(LATEST_KEY, LATEST_KEY, json.dumps(pointer, indent=2) + "\n", "application/json")


def last_good(latest: dict[str, Any] | None, folder: str) -> dict[str, Any] | None:
    """The run latest.json points at, with a link to its page relative to the page in `folder`."""
    if not latest:
        return None
    href = "../" * (folder.count("/") + 1) + f"{latest['folder']}/index.html"
    return {"run_id": latest.get("run_id"), "folder": latest["folder"], "href": href}
