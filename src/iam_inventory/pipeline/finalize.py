"""Finalize a run: from every account's AccountScan to the published report, metrics and notifications.

Single mode and fan-out mode both end here, with the same AccountScans in discovery order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_lambda_powertools.metrics import Metrics

from iam_inventory.assume.clients import ClientFactory
from iam_inventory.config.settings import Settings
from iam_inventory.core.clock import Clock
from iam_inventory.core.observability import logger
from iam_inventory.models import AccountResult, RunContext, RunResult
from iam_inventory.models.scan import AccountScan
from iam_inventory.pipeline.scan import Progress
from iam_inventory.publish.changes import (
    LocalRunStore,
    RunStore,
    S3RunStore,
    change_counts,
    compare_runs,
    load_baseline,
)
from iam_inventory.publish.files import (
    LocalSink,
    PublishOptions,
    ReportSink,
    S3Sink,
    publish_metrics,
    publish_report,
)
from iam_inventory.publish.notify import notify_new_findings
from iam_inventory.publish.report import build_summary
from iam_inventory.publish.securityhub import export_run

# Every account of the run (scanned, failed, skipped, not scanned) as an AccountScan, in discovery order.
# A callable, so that a streaming finalize may read the scans more than once without holding them.
ScanSource = Callable[[], Iterator[AccountScan]]


@dataclass(frozen=True, slots=True)
class Outputs:
    """Where a run's results go besides the return value."""

    local_dir: Path | None = None
    metrics: Metrics | None = None
    progress: Progress | None = None


def finalize_run(
    context: RunContext,
    scans: ScanSource,
    settings: Settings,
    factory: ClientFactory,
    outputs: Outputs,
    clock: Clock,
) -> RunResult:
    """Merge the run's AccountScans and publish them (unless dry run); the result summarises the run."""
    accounts: list[AccountResult] = []
    findings = []
    for scan in scans():
        accounts.append(scan.result)
        findings.extend(scan.findings)
    result = RunResult(context=context, accounts=accounts, findings=findings, finished_at=clock())
    publish_run(result, settings, factory, outputs)
    return result


def publish_run(result: RunResult, settings: Settings, factory: ClientFactory, outputs: Outputs) -> None:
    """Compare with the previous run, then (unless dry run) write files, metrics, notifications, exports."""
    baseline = load_baseline(run_store(settings, outputs, factory), result.context.run_id)
    result.changes = compare_runs(result, baseline)
    if not result.context.dry_run:
        sinks: list[ReportSink] = []
        if settings.report_bucket:
            sinks.append(S3Sink(factory.hub_client("s3"), settings.report_bucket, settings.report_prefix))
        if outputs.local_dir is not None:
            sinks.append(LocalSink(outputs.local_dir))
        options = PublishOptions(
            previous_history=baseline.history if baseline else (),
            history_runs=settings.history_runs,
            console_role_name=settings.console_role_name,
        )
        result.published = publish_report(result, sinks, options)
        if outputs.metrics is not None:
            publish_metrics(result, outputs.metrics)
        deliver_findings(result, settings, factory)
    logger.info("run finished", extra={"summary": run_summary(result)})


def run_store(settings: Settings, outputs: Outputs, factory: ClientFactory) -> RunStore:
    """Where the previous run is read from: the report bucket, else the local output directory."""
    if settings.report_bucket:
        return S3RunStore(factory.hub_client("s3"), settings.report_bucket, settings.report_prefix)
    if outputs.local_dir is not None:
        return LocalRunStore(outputs.local_dir)
    return _NoRuns()


class _NoRuns:
    def read(self, key: str) -> bytes | None:
        return None


def deliver_findings(result: RunResult, settings: Settings, factory: ClientFactory) -> None:
    """After publishing: SNS summary of new urgent findings, Security Hub export (each when configured)."""
    if settings.notify_topic_arn:
        location = result.published.get("index.html") or result.published.get("report.json")
        message_id = notify_new_findings(
            factory.hub_client("sns"), settings.notify_topic_arn, result, location
        )
        logger.info("notification", extra={"sent": message_id is not None})
    if settings.security_hub_export:
        exported = export_run(
            factory.hub_client("securityhub"),
            factory.hub_client("sts"),
            result,
            factory.region,
            factory.partition,
        )
        level = logger.warning if exported.failed else logger.info
        level("security hub export", extra={"imported": exported.imported, "failed": exported.failed})
        result.published["securityhub"] = f"{exported.imported} imported, {exported.failed} refused"


def run_summary(result: RunResult) -> dict[str, Any]:
    """What the handler returns and the logs show: counts and where the report landed."""
    return {
        "run_id": result.context.run_id,
        "dry_run": result.context.dry_run,
        **build_summary(result),
        "failed_accounts": [
            {"account_id": item.account.account_id, "error_code": item.error_code}
            for item in result.accounts
            if item.error_code
        ],
        "changes": change_counts(result.changes),
        "published": dict(result.published),
    }
