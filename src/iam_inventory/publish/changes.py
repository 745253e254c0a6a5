"""Changes since the last run: read the previous run through `latest.json`, then diff the findings.

Finding ids are derived from (account, user, key, rule), so the same problem keeps its id from run to
run and a set difference of ids is the whole comparison.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from iam_inventory.core.observability import logger
from iam_inventory.models import AccountStatus, Finding, FindingChanges, RunResult
from iam_inventory.publish.report import finding_from_entry


class RunStore(Protocol):
    """Read access to where earlier runs were published."""

    def read(self, key: str) -> bytes | None:
        """The object under `key` (relative to the report root), or None when there is none."""
        ...


@dataclass(frozen=True, slots=True)
class S3RunStore:
    """Earlier runs under s3://bucket/prefix/."""

    s3: BaseClient
    bucket: str
    prefix: str

    def read(self, key: str) -> bytes | None:
        """GetObject; a missing key is None (the role may ListBucket, so S3 answers 404, not 403)."""
        full_key = f"{self.prefix}/{key}" if self.prefix else key
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=full_key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None


@dataclass(frozen=True, slots=True)
class LocalRunStore:
    """Earlier runs in a local output directory, where files are written flat (the CLI's --out)."""

    directory: Path

    def read(self, key: str) -> bytes | None:
        """The file named like the key's last part, or None."""
        path = self.directory / Path(key).name
        return path.read_bytes() if path.is_file() else None


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the previous run left: its findings (with first-seen times) and the run history."""

    run_id: str
    folder: str | None
    findings: tuple[Finding, ...]
    first_seen_at: dict[str, datetime] = field(default_factory=dict)
    history: tuple[dict[str, Any], ...] = ()


def load_baseline(store: RunStore, run_id: str) -> Baseline | None:
    """The previous run found through `latest.json`, or None (first run, or unreadable: logged)."""
    try:
        return _load_baseline(store, run_id)
    except (ClientError, BotoCoreError, ValueError, KeyError, TypeError) as error:
        # Comparing is a bonus on top of the inventory: a broken baseline must not lose the run.
        logger.warning("previous run not readable; every finding counts as new", extra={"error": str(error)})
        return None


def _load_baseline(store: RunStore, run_id: str) -> Baseline | None:
    latest = _read_json(store, "latest.json")
    if latest is None:
        return None
    folder = latest.get("folder")
    report = _read_json(store, f"{folder}/report.json")
    if report is not None and report["run"]["run_id"] == run_id:
        # A retried run overwrites its own folder: compare with what its first attempt compared with.
        folder = (report.get("changes") or {}).get("previous_folder")
        report = _read_json(store, f"{folder}/report.json") if folder else None
        if report is not None and report["run"]["run_id"] == run_id:
            return None
    if report is None:
        return None
    entries = [*report["findings"], *(report.get("changes") or {}).get("carried_over", [])]
    first_seen = {
        entry["finding_id"]: datetime.fromisoformat(entry["first_seen_at"].replace("Z", "+00:00"))
        for entry in entries
        if entry.get("first_seen_at")
    }
    history = _read_json(store, f"{folder}/history.json") or {}
    return Baseline(
        run_id=report["run"]["run_id"],
        folder=folder,
        findings=tuple(finding_from_entry(entry) for entry in entries),
        first_seen_at=first_seen,
        history=tuple(history.get("runs", [])),
    )


def _read_json(store: RunStore, key: str) -> Any:
    body = store.read(key)
    return None if body is None else json.loads(body)


def compare_runs(result: RunResult, baseline: Baseline | None) -> FindingChanges:
    """New, resolved and carried-over findings of `result` against the previous run."""
    now = result.context.started_at
    current = {finding.finding_id for finding in result.findings}
    scanned = {item.account.account_id for item in result.accounts if item.status is AccountStatus.SCANNED}
    previous = {finding.finding_id: finding for finding in baseline.findings} if baseline else {}
    earlier = baseline.first_seen_at if baseline else {}
    carried = tuple(
        finding
        for finding_id, finding in previous.items()
        if finding.account_id not in scanned and finding_id not in current
    )
    resolved = tuple(
        finding
        for finding_id, finding in previous.items()
        if finding.account_id in scanned and finding_id not in current
    )
    first_seen = {finding_id: earlier.get(finding_id, now) for finding_id in current}
    first_seen.update({finding.finding_id: earlier.get(finding.finding_id, now) for finding in carried})
    first_seen.update({finding.finding_id: earlier.get(finding.finding_id, now) for finding in resolved})
    return FindingChanges(
        previous_run_id=baseline.run_id if baseline else None,
        previous_folder=baseline.folder if baseline else None,
        new_ids=frozenset(current - previous.keys()),
        resolved=resolved,
        first_seen_at=first_seen,
        carried_over=carried,
    )


def history_entry(report: dict[str, Any]) -> dict[str, Any]:
    """The few numbers of one run that the trend chart needs."""
    summary = report["summary"]
    changes = report.get("changes") or {}
    return {
        "run_id": report["run"]["run_id"],
        "started_at": report["run"]["started_at"],
        "accounts_scanned": summary["accounts"]["scanned"],
        "accounts_failed": summary["accounts"]["failed"],
        "findings": summary["findings"]["total"],
        "by_severity": dict(summary["findings"]["by_severity"]),
        "new": changes.get("new", 0),
        "resolved": changes.get("resolved", 0),
    }


def next_history(
    previous: tuple[dict[str, Any], ...], report: dict[str, Any], limit: int
) -> list[dict[str, Any]]:
    """The last `limit` runs, oldest first, this one last (a retried run replaces its own entry)."""
    entry = history_entry(report)
    kept = [item for item in previous if item.get("run_id") != entry["run_id"]]
    return [*kept, entry][-limit:]


def change_counts(changes: FindingChanges | None) -> dict[str, Any]:
    """New/resolved counts for the run summary."""
    if changes is None:
        return {"previous_run_id": None, "new": None, "resolved": None}
    return {
        "previous_run_id": changes.previous_run_id,
        "new": len(changes.new_ids),
        "resolved": len(changes.resolved),
    }
