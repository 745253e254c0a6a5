"""The one start of every entry point (single, discover, worker, finalize handlers and the CLI)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from aws_lambda_powertools.metrics import Metrics

from iam_inventory.assume.clients import ClientFactory
from iam_inventory.config.settings import Settings
from iam_inventory.core.observability import logger
from iam_inventory.pipeline.runtime import Runtime, open_runtime


def bootstrap(
    environ: Mapping[str, str] | None = None,
    metrics: Metrics | None = None,
    default_log_level: str = "INFO",
    factory: ClientFactory | None = None,
    profile: str | None = None,
    settings: Settings | None = None,
) -> Runtime:
    """Validated settings (unless the caller validated them already), the log level, log redaction
    (before any AWS call), clients and metrics."""
    environ = os.environ if environ is None else environ
    settings = settings or Settings.from_env(environ)
    logger.setLevel(environ.get("POWERTOOLS_LOG_LEVEL") or environ.get("LOG_LEVEL") or default_log_level)
    return open_runtime(settings, factory=factory, profile=profile, metrics=metrics)
