"""The one place that owns the Logger, Tracer and Metrics.

In Lambda the template's Globals set POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE; the defaults
here make the CLI, the demo and the tests emit the same names when those variables are absent.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE_NAME = os.environ.get("POWERTOOLS_SERVICE_NAME", "iam-inventory")
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "IAMInventory")

logger = Logger(service=SERVICE_NAME)
tracer = Tracer(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
