"""What every entry point opens before its first AWS call: settings, clients and log redaction."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from aws_lambda_powertools.metrics import Metrics

from iam_inventory.assume.clients import ClientFactory
from iam_inventory.config.concurrency import MAX_POOL
from iam_inventory.config.settings import Settings
from iam_inventory.core.redact import Redactor, install_log_redaction
from iam_inventory.pipeline.location import ReportLocation, report_location

# How many stored scans finalize reads ahead of the one it is merging: S3 latency hidden, memory bounded.
READ_AHEAD = 16


@dataclass(frozen=True, slots=True)
class Runtime:
    """What one invocation runs with: validated settings, clients, the report location, the redactor."""

    settings: Settings
    factory: ClientFactory
    location: ReportLocation
    redact: Redactor
    metrics: Metrics | None = None
    # CPUs of the machine outside Lambda (inside, CPU follows AWS_LAMBDA_FUNCTION_MEMORY_SIZE).
    cpus: int = 1


def open_runtime(
    settings: Settings,
    factory: ClientFactory | None = None,
    profile: str | None = None,
    metrics: Metrics | None = None,
    local_dir: Path | None = None,
) -> Runtime:
    """Install log redaction (before any AWS call: botocore's DEBUG output carries secrets), then clients."""
    redact = Redactor()
    install_log_redaction(redact)
    factory = factory or ClientFactory(
        settings, max_pool_connections=hub_pool_size(settings), profile=profile
    )
    cpus = os.cpu_count() or 1
    location = report_location(settings, factory, local_dir)
    return Runtime(settings, factory, location, redact, metrics=metrics, cpus=cpus)


def hub_pool_size(settings: Settings) -> int:
    """Connections: one per account in flight, per call inside an account, per scan finalize reads ahead."""
    return max(settings.workers or MAX_POOL, settings.account_concurrency, READ_AHEAD)


def resolve_external_id(runtime: Runtime) -> str | None:
    """The ExternalId (its SSM SecureString, or a plain value outside Lambda), masked from now on."""
    settings = runtime.settings
    value = settings.external_id
    if settings.external_id_parameter:
        ssm = runtime.factory.hub_client("ssm")
        value = ssm.get_parameter(Name=settings.external_id_parameter, WithDecryption=True)["Parameter"][
            "Value"
        ]
    runtime.redact.add(value)
    return value
