"""Lambda entry point: parse the event and config, run the job, return a summary."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from iam_inventory.budget import Deadline
from iam_inventory.config import Settings
from iam_inventory.events import RunRequest
from iam_inventory.job import Outputs, run_job, run_summary
from iam_inventory.observability import logger, metrics, tracer


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Run one inventory for the event (schedule or manual) and return its summary."""
    request = RunRequest.from_event(event)
    settings = Settings.from_env(os.environ)
    # The run stops starting accounts in time to publish what it has before Lambda's limit.
    deadline = Deadline.from_lambda_context(context, settings.publish_reserve_seconds)
    result = run_job(
        request, settings, utcnow, context.aws_request_id, Outputs(metrics=metrics), deadline=deadline
    )
    return run_summary(result)
