"""Publish a run: report files to S3 (or a local folder), then `latest.json`; metrics as EMF."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any, Protocol

from aws_lambda_powertools.metrics import EphemeralMetrics, Metrics, MetricUnit, single_metric
from botocore.client import BaseClient

from iam_inventory.models import AccountStatus, RunResult
from iam_inventory.report import iso
from iam_inventory.report_stream import render_findings_csv_lean, render_report_json_lean
from iam_inventory.rules import RULE_IDS


@dataclass(frozen=True, slots=True)
class ReportFile:
    """One file of a run's output."""

    name: str
    body: bytes
    content_type: str


class ReportSink(Protocol):
    """Where report files go."""

    def write(self, key: str, file: ReportFile) -> str:
        """Store one file under `key` (relative to the sink's root); return where it landed."""
        ...


@dataclass(frozen=True, slots=True)
class S3Sink:
    """Writes under s3://bucket/prefix/."""

    s3: BaseClient
    bucket: str
    prefix: str

    def write(self, key: str, file: ReportFile) -> str:
        """PutObject; the bucket's default encryption applies."""
        full_key = f"{self.prefix}/{key}" if self.prefix else key
        self.s3.put_object(Bucket=self.bucket, Key=full_key, Body=file.body, ContentType=file.content_type)
        return f"s3://{self.bucket}/{full_key}"


@dataclass(frozen=True, slots=True)
class LocalSink:
    """Writes a run's files flat into one directory (the CLI's --out)."""

    directory: Path

    def write(self, key: str, file: ReportFile) -> str:
        """Write the file as directory/<file name>, whatever the run folder."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / Path(key).name
        path.write_bytes(file.body)
        return str(path)


def run_folder(result: RunResult) -> str:
    """Deterministic folder of a run: a retried invocation overwrites its own files."""
    day = result.context.started_at.astimezone(UTC).strftime("%Y-%m-%d")
    return f"runs/dt={day}/{result.context.run_id}"


def render_run_files(result: RunResult) -> tuple[dict[str, Any], list[ReportFile]]:
    """The report document and the files rendered from it."""
    # Inventory and findings are rendered in slices: the dict form of a large run would cost several
    # times the files' size in memory. `report` is the rest of the document (run, summary, accounts).
    report, report_json = render_report_json_lean(result)
    files = [
        ReportFile("report.json", report_json, "application/json"),
        ReportFile("findings.csv", render_findings_csv_lean(result, report), "text/csv; charset=utf-8"),
    ]
    return report, files


def publish_report(result: RunResult, sinks: list[ReportSink]) -> dict[str, str]:
    """Write every run file to every sink, then `latest.json` last, so it never points at a partial run."""
    report, files = render_run_files(result)
    folder = run_folder(result)
    locations: dict[str, str] = {}
    for sink in sinks:
        for file in files:
            locations.setdefault(file.name, sink.write(f"{folder}/{file.name}", file))
        pointer = {
            "schema_version": report["schema_version"],
            "run_id": result.context.run_id,
            "finished_at": iso(result.finished_at),
            "folder": folder,
            "files": {file.name: f"{folder}/{file.name}" for file in files},
            "summary": report["summary"],
        }
        body = (json.dumps(pointer, indent=2) + "\n").encode()
        locations.setdefault(
            "latest.json", sink.write("latest.json", ReportFile("latest.json", body, "application/json"))
        )
    return locations


def publish_metrics(result: RunResult, metrics: Metrics) -> None:
    """Run totals on the shared Metrics; one EMF blob per account with an AccountId dimension."""
    statuses = Counter(item.status for item in result.accounts)
    inventories = [item.inventory for item in result.accounts if item.inventory is not None]
    keys = [key for inventory in inventories for user in inventory.users for key in user.access_keys]
    metrics.add_metric("AccountsExpected", MetricUnit.Count, len(result.accounts))
    metrics.add_metric("AccountsScanned", MetricUnit.Count, statuses[AccountStatus.SCANNED])
    metrics.add_metric("AccountsFailed", MetricUnit.Count, statuses[AccountStatus.FAILED])
    metrics.add_metric("AccountsSkipped", MetricUnit.Count, statuses[AccountStatus.SKIPPED])
    metrics.add_metric("AccountsNotScanned", MetricUnit.Count, statuses[AccountStatus.NOT_SCANNED])
    metrics.add_metric("Users", MetricUnit.Count, sum(len(inventory.users) for inventory in inventories))
    metrics.add_metric("ActiveAccessKeys", MetricUnit.Count, sum(1 for key in keys if key.active))
    metrics.add_metric("Findings", MetricUnit.Count, len(result.findings))
    metrics.add_metric("RunCompleted", MetricUnit.Count, 1)

    by_rule = Counter(finding.rule_id for finding in result.findings)
    namespace = metrics.namespace
    for rule_id in RULE_IDS:
        with single_metric(
            name="FindingsByRule", unit=MetricUnit.Count, value=by_rule[rule_id], namespace=namespace
        ) as metric:
            metric.add_dimension(name="RuleId", value=rule_id)

    findings_by_account = Counter(finding.account_id for finding in result.findings)
    for item in result.accounts:
        per_account = EphemeralMetrics(namespace=namespace, service=metrics.service)
        per_account.add_dimension(name="AccountId", value=item.account.account_id)
        per_account.add_metric("ScanFailed", MetricUnit.Count, int(item.status is AccountStatus.FAILED))
        if item.inventory is not None:
            account_keys = [key for user in item.inventory.users for key in user.access_keys]
            per_account.add_metric("Users", MetricUnit.Count, len(item.inventory.users))
            per_account.add_metric(
                "ActiveAccessKeys", MetricUnit.Count, sum(1 for key in account_keys if key.active)
            )
            per_account.add_metric("Findings", MetricUnit.Count, findings_by_account[item.account.account_id])
        per_account.flush_metrics()
