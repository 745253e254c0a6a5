"""The whole job behind one function, shared by the Lambda handler and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aws_lambda_powertools.metrics import Metrics

from iam_inventory.assume.clients import ClientFactory
from iam_inventory.config.events import RunRequest
from iam_inventory.config.settings import ConfigError, Settings
from iam_inventory.core.budget import Deadline
from iam_inventory.core.observability import logger
from iam_inventory.core.redact import Redactor, install_log_redaction
from iam_inventory.discover.accounts import describe_account_source, discover_accounts
from iam_inventory.models import RunContext, RunResult
from iam_inventory.pipeline.scan import Clock, Progress, resolve_external_id, run_inventory
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


@dataclass(frozen=True, slots=True)
class Outputs:
    """Where a run's results go besides the return value."""

    local_dir: Path | None = None
    metrics: Metrics | None = None
    progress: Progress | None = None


def run_job(
    request: RunRequest,
    settings: Settings,
    clock: Clock,
    request_id: str,
    outputs: Outputs,
    factory: ClientFactory | None = None,
    deadline: Deadline | None = None,
) -> RunResult:
    """Discover, scan, evaluate and (unless dry run) publish one inventory run."""
    context = build_run_context(request, settings, clock(), request_id)
    run_id = context.run_id
    logger.set_correlation_id(run_id)
    if not request.dry_run and not settings.report_bucket and outputs.local_dir is None:
        raise ConfigError(
            "invalid configuration: environment variable REPORT_BUCKET: required unless dry_run"
        )
    factory = factory or ClientFactory(
        settings, max_pool_connections=max(settings.workers, settings.account_concurrency)
    )
    redact = Redactor()
    # Before the first AWS call: botocore's DEBUG output carries the ExternalId and the credentials.
    install_log_redaction(redact)
    external_id = resolve_external_id(settings, lambda: factory.hub_client("ssm"))
    redact.add(external_id)
    discovery = discover_accounts(settings, request.accounts, factory, run_id)
    logger.info("run started", extra={"accounts_expected": discovery.expected, "dry_run": request.dry_run})
    result = run_inventory(
        context, discovery, settings, factory, external_id, redact, clock, deadline, progress=outputs.progress
    )
    publish_run(result, settings, factory, outputs)
    return result


def build_run_context(
    request: RunRequest, settings: Settings, started_at: datetime, request_id: str
) -> RunContext:
    """The run's identity and options, fixed before any account is touched (single and fan-out mode alike)."""
    thresholds = request.thresholds.apply(settings.thresholds) if request.thresholds else settings.thresholds
    return RunContext(
        run_id=request.resolve_run_id(started_at, request_id),
        started_at=started_at,
        dry_run=request.dry_run,
        thresholds=thresholds,
        role_name=settings.role_name,
        role_path=settings.role_path,
        trigger=request.source,
        account_source=describe_account_source(settings, request.accounts),
        user_tag_keys=settings.user_tag_keys,
    )


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
