"""The whole job behind one function, shared by the Lambda handler and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_lambda_powertools.metrics import Metrics

from iam_inventory.aws import ClientFactory
from iam_inventory.budget import Deadline
from iam_inventory.config import ConfigError, Settings
from iam_inventory.discovery import describe_account_source, discover_accounts
from iam_inventory.events import RunRequest
from iam_inventory.models import RunContext, RunResult
from iam_inventory.observability import logger
from iam_inventory.publish import LocalSink, ReportSink, S3Sink, publish_metrics, publish_report
from iam_inventory.redact import Redactor
from iam_inventory.report import build_summary
from iam_inventory.runner import Clock, resolve_external_id, run_inventory


@dataclass(frozen=True, slots=True)
class Outputs:
    """Where a run's results go besides the return value."""

    local_dir: Path | None = None
    metrics: Metrics | None = None


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
    started_at = clock()
    run_id = request.resolve_run_id(started_at, request_id)
    logger.set_correlation_id(run_id)
    thresholds = request.thresholds.apply(settings.thresholds) if request.thresholds else settings.thresholds
    if not request.dry_run and not settings.report_bucket and outputs.local_dir is None:
        raise ConfigError(
            "invalid configuration: environment variable REPORT_BUCKET: required unless dry_run"
        )
    context = RunContext(
        run_id=run_id,
        started_at=started_at,
        dry_run=request.dry_run,
        thresholds=thresholds,
        role_name=settings.role_name,
        role_path=settings.role_path,
        trigger=request.source,
        account_source=describe_account_source(settings, request.accounts),
    )
    factory = factory or ClientFactory(
        settings, max_pool_connections=max(settings.workers, settings.account_concurrency)
    )
    redact = Redactor()
    external_id = resolve_external_id(settings, lambda: factory.hub_client("ssm"))
    redact.add(external_id)
    discovery = discover_accounts(settings, request.accounts, factory, run_id)
    logger.info("run started", extra={"accounts_expected": discovery.expected, "dry_run": request.dry_run})
    result = run_inventory(context, discovery, settings, factory, external_id, redact, clock, deadline)
    if not request.dry_run:
        sinks: list[ReportSink] = []
        if settings.report_bucket:
            sinks.append(S3Sink(factory.hub_client("s3"), settings.report_bucket, settings.report_prefix))
        if outputs.local_dir is not None:
            sinks.append(LocalSink(outputs.local_dir))
        result.published = publish_report(result, sinks)
        if outputs.metrics is not None:
            publish_metrics(result, outputs.metrics)
    logger.info("run finished", extra={"summary": run_summary(result)})
    return result


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
        "published": dict(result.published),
    }
