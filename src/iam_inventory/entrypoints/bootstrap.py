"""The one start of every entry point (single, discover, worker, finalize handlers and the CLI)."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

from aws_lambda_powertools.metrics import Metrics

from iam_inventory.assume.clients import ClientFactory
from iam_inventory.config.settings import Settings
from iam_inventory.core.observability import logger
from iam_inventory.core.redact import install_log_redaction
from iam_inventory.pipeline.runtime import Runtime, open_runtime

# Lambda sets these per invocation (the X-Ray trace header); they are not the container's configuration.
_PER_INVOCATION = frozenset({"_X_AMZN_TRACE_ID"})


def bootstrap(
    environ: Mapping[str, str] | None = None,
    metrics: Metrics | None = None,
    default_log_level: str = "INFO",
    factory: ClientFactory | None = None,
    profile: str | None = None,
    settings: Settings | None = None,
    local_dir: Path | None = None,
) -> Runtime:
    """Validated settings (unless the caller validated them already), the log level, log redaction
    (before any AWS call), clients, the report location (the bucket, else `local_dir`) and metrics."""
    environ = os.environ if environ is None else environ
    settings = settings or Settings.from_env(environ)
    _set_log_level(environ, default_log_level)
    return open_runtime(settings, factory=factory, profile=profile, metrics=metrics, local_dir=local_dir)


class _Container:
    """The runtime a Lambda container built on its first invocation, and the environment it was built from."""

    lock = threading.Lock()
    environment: frozenset[tuple[str, str]] | None = None
    runtime: Runtime | None = None


def container_runtime(metrics: Metrics | None = None, environ: Mapping[str, str] | None = None) -> Runtime:
    """The handlers' runtime: settings read and the botocore session built once per Lambda container.

    Lambda fixes a container's environment for its life, so a warm invocation reuses what the first one
    built (https://docs.aws.amazon.com/lambda/latest/dg/best-practices.html: "Take advantage of execution
    environment reuse"). A changed environment (a test, a local loop) builds a new one. Log redaction is
    installed again each time: another entry point in the process may have swapped it.
    """
    environ = os.environ if environ is None else environ
    environment = frozenset((name, value) for name, value in environ.items() if name not in _PER_INVOCATION)
    with _Container.lock:
        runtime = _Container.runtime
        if runtime is None or _Container.environment != environment or runtime.metrics is not metrics:
            runtime = bootstrap(environ, metrics=metrics)
            _Container.environment, _Container.runtime = environment, runtime
        else:
            _set_log_level(environ, "INFO")
            install_log_redaction(runtime.redact)
        return runtime


def _set_log_level(environ: Mapping[str, str], default: str) -> None:
    logger.setLevel(environ.get("POWERTOOLS_LOG_LEVEL") or environ.get("LOG_LEVEL") or default)
