"""The whole job behind one function, shared by the Lambda handler and the CLI."""

from __future__ import annotations

from datetime import datetime

from iam_inventory.assume.clients import ClientFactory
from iam_inventory.config.events import RunRequest
from iam_inventory.config.settings import ConfigError, Settings
from iam_inventory.core.budget import Deadline
from iam_inventory.core.observability import logger
from iam_inventory.core.redact import Redactor, install_log_redaction
from iam_inventory.discover.accounts import describe_account_source, discover_accounts
from iam_inventory.models import RunContext, RunResult
from iam_inventory.pipeline.finalize import Outputs, publish_run
from iam_inventory.pipeline.scan import Clock, resolve_external_id, run_inventory


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
        baseline_requested=request.baseline,
        overrides=request.overrides,
    )
