"""Publish a run: report files to S3 (or a local folder), then `latest.json`; metrics as EMF."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any, Protocol

from aws_lambda_powertools.metrics import EphemeralMetrics, Metrics, MetricUnit, single_metric
from botocore.client import BaseClient

from iam_inventory.evaluate.rules import RULE_IDS
from iam_inventory.models import AccountStatus, RunResult
from iam_inventory.publish.athena import (
    FINDINGS_TABLE,
    INVENTORY_TABLE,
    partition_key,
    render_findings_jsonl,
    render_inventory_jsonl,
)
from iam_inventory.publish.changes import next_history
from iam_inventory.publish.html import render_html
from iam_inventory.publish.report import (
    build_report,
    iso,
    render_findings_csv,
    render_inventory_csv,
    render_report_json,
)


@dataclass(frozen=True, slots=True)
class ReportFile:
    """One file of a run's output."""

    name: str
    body: bytes
    content_type: str
    # Key relative to the report root for files outside the run folder (the Athena partitions).
    key: str | None = None


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
        """Write the file as directory/<file name>, whatever the run folder or partition."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / file.name
        path.write_bytes(file.body)
        return str(path)


def run_folder(result: RunResult) -> str:
    """Deterministic folder of a run: a retried invocation overwrites its own files."""
    day = result.context.started_at.astimezone(UTC).strftime("%Y-%m-%d")
    return f"runs/dt={day}/{result.context.run_id}"


@dataclass(frozen=True, slots=True)
class PublishOptions:
    """What the rendered files need beyond the run: earlier runs for the trend, the console role."""

    previous_history: tuple[dict[str, Any], ...] = ()
    history_runs: int = 30
    console_role_name: str | None = None


def render_run_files(
    result: RunResult, options: PublishOptions | None = None
) -> tuple[dict[str, Any], Iterator[ReportFile]]:
    """The report document, and its files rendered one at a time as they are iterated.

    Lazily, so that publishing holds one rendered file at a time rather than all of them: for a large
    organisation each file is tens of megabytes. Order: run folder files, then Athena partitions.
    """
    options = options or PublishOptions()
    report = build_report(result)
    history = next_history(options.previous_history, report, options.history_runs)
    csv_type = "text/csv; charset=utf-8"

    def files() -> Iterator[ReportFile]:
        yield ReportFile("report.json", render_report_json(report), "application/json")
        yield ReportFile("findings.csv", render_findings_csv(report), csv_type)
        yield ReportFile("inventory.csv", render_inventory_csv(report), csv_type)
        history_body = (json.dumps({"runs": history}, indent=2) + "\n").encode()
        yield ReportFile("history.json", history_body, "application/json")
        html = render_html(report, history, options.console_role_name)
        yield ReportFile("index.html", html, "text/html; charset=utf-8")
        findings_key = partition_key(FINDINGS_TABLE, report)
        yield ReportFile(
            "findings.jsonl", render_findings_jsonl(report), "application/x-ndjson", key=findings_key
        )
        inventory_key = partition_key(INVENTORY_TABLE, report)
        yield ReportFile(
            "inventory.jsonl", render_inventory_jsonl(report), "application/x-ndjson", key=inventory_key
        )

    return report, files()


def publish_report(
    result: RunResult, sinks: list[ReportSink], options: PublishOptions | None = None
) -> dict[str, str]:
    """Write every run file to every sink, then `latest.json` last, so it never points at a partial run."""
    report, files = render_run_files(result, options)
    folder = run_folder(result)
    keys: dict[str, str] = {}
    locations: dict[str, str] = {}
    for file in files:
        keys[file.name] = file.key or f"{folder}/{file.name}"
        for sink in sinks:
            locations.setdefault(file.name, sink.write(keys[file.name], file))
    pointer = {
        "schema_version": report["schema_version"],
        "run_id": result.context.run_id,
        "finished_at": iso(result.finished_at),
        "folder": folder,
        "files": keys,
        "summary": report["summary"],
    }
    latest = ReportFile("latest.json", (json.dumps(pointer, indent=2) + "\n").encode(), "application/json")
    for sink in sinks:
        locations.setdefault("latest.json", sink.write("latest.json", latest))
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
    if result.changes is not None:
        metrics.add_metric("NewFindings", MetricUnit.Count, len(result.changes.new_ids))
        metrics.add_metric("ResolvedFindings", MetricUnit.Count, len(result.changes.resolved))
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
