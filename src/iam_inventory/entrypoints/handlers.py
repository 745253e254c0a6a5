"""Lambda entry points (doorways only): single mode, and fan-out mode's discover, worker and finalize."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from iam_inventory.config.events import RunRequest
from iam_inventory.core.budget import Deadline
from iam_inventory.core.clock import utcnow
from iam_inventory.core.observability import logger, metrics, tracer
from iam_inventory.entrypoints.bootstrap import container_runtime
from iam_inventory.pipeline.fanout import discover_run, finalize_fanout, scan_worker
from iam_inventory.pipeline.finalize import Outputs
from iam_inventory.pipeline.job import run_job
from iam_inventory.pipeline.outcome import run_summary


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Run one inventory for the event (schedule or manual) and return its summary."""
    request = RunRequest.from_event(event)
    runtime = container_runtime(metrics=metrics)
    # The run stops starting accounts in time to publish what it has before Lambda's limit.
    deadline = Deadline.from_lambda_context(context, runtime.settings.publish_reserve_seconds)
    result = run_job(
        request, runtime, utcnow, context.aws_request_id, Outputs(metrics=runtime.metrics), deadline
    )
    return run_summary(result)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def discover_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Step 1: fix the run (or resume it) and write the Map's item list."""
    request = RunRequest.from_event(event)
    return discover_run(request, container_runtime(), utcnow, context.aws_request_id).model_dump()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def worker_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Step 2 (once per account): scan one account and store its AccountScan."""
    runtime = container_runtime()
    deadline = Deadline.from_lambda_context(context, runtime.settings.publish_reserve_seconds)
    return scan_worker(event, runtime, deadline)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def finalize_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Step 3: merge the stored scans into the report, CSVs, pointers and metrics."""
    return run_summary(finalize_fanout(event, container_runtime(metrics=metrics), utcnow))
