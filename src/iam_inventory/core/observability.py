"""The one place that owns the Logger, Tracer and Metrics.

In Lambda the template's Globals set POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE; the defaults
here make the CLI, the demo and the tests emit the same names when those variables are absent.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE_NAME = os.environ.get("POWERTOOLS_SERVICE_NAME", "iam-inventory")
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "IAMInventory")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LEVEL_VARIABLES = ("POWERTOOLS_LOG_LEVEL", "LOG_LEVEL")


def configured_log_level(environ: Mapping[str, str], default: str = "INFO") -> tuple[str, str | None]:
    """The log level the environment asks for, and the name of the variable that held an invalid one."""
    for name in _LEVEL_VARIABLES:
        value = environ.get(name, "").strip().upper()
        if value:
            return (value, None) if value in LOG_LEVELS else (default, name)
    return default, None


_LEVEL, _INVALID_LEVEL_VARIABLE = configured_log_level(os.environ)
# Powertools raises at import for an unknown LOG_LEVEL ("LOUD"), which would break every command,
# even `report`: an invalid value falls back to INFO here. Lambda gets one warning in its log; the CLI
# checks the level itself (its stdout carries reports, so nothing is logged there at import).
logger = Logger(service=SERVICE_NAME, level=_LEVEL)
tracer = Tracer(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
if _INVALID_LEVEL_VARIABLE and os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    logger.warning(
        "invalid log level: using INFO",
        extra={"variable": _INVALID_LEVEL_VARIABLE, "allowed": ", ".join(LOG_LEVELS)},
    )
