"""Single mode: the whole run in one process, shared by the Lambda handler and the CLI."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import partial

from iam_inventory.config.events import RunRequest
from iam_inventory.config.settings import ConfigError, Settings
from iam_inventory.core.budget import Deadline
from iam_inventory.core.clock import Clock
from iam_inventory.core.observability import logger
from iam_inventory.discover.accounts import describe_account_source, discover_accounts
from iam_inventory.models import RunContext
from iam_inventory.pipeline.finalize import Outputs, finalize_run, load_exceptions, open_comparison
from iam_inventory.pipeline.outcome import RunOutcome
from iam_inventory.pipeline.run import (
    account_plan,
    open_manifest,
    pending_accounts,
    scan_pending,
    scan_source,
)
from iam_inventory.pipeline.runtime import Runtime
from iam_inventory.pipeline.scan import not_scanned
from iam_inventory.pipeline.scan_feed import ScanFeed, in_background
from iam_inventory.pipeline.scan_store import scan_folder


def run_job(
    request: RunRequest,
    runtime: Runtime,
    clock: Clock,
    request_id: str,
    outputs: Outputs,
    deadline: Deadline | None = None,
) -> RunOutcome:
    """Discover (or resume), scan each account into the run's store, then finalize from the store."""
    settings, factory = runtime.settings, runtime.factory
    context = build_run_context(request, settings, clock(), request_id)
    logger.set_correlation_id(context.run_id)
    if not request.dry_run and not runtime.location.keeps_files:
        raise ConfigError(
            "invalid configuration: environment variable REPORT_BUCKET: required unless dry_run"
        )
    # An invalid exceptions file stops the run here, before discovery and before any account is scanned.
    outputs = replace(outputs, exceptions=load_exceptions(settings, factory, context, outputs))
    store = runtime.location.scan_store(scan_folder(context), context.dry_run)
    manifest = open_manifest(
        store, context, lambda: discover_accounts(settings, request.accounts, factory, context.run_id)
    )
    context = manifest.context
    logger.info(
        "run started",
        extra={
            "accounts_expected": manifest.expected,
            "dry_run": request.dry_run,
        },
    )
    plan = account_plan(runtime, context, deadline)
    # The import roles trust the hub like the read role, with the same ExternalId.
    outputs = replace(outputs, external_id=plan.external_id, redact=runtime.redact)
    pool_size = partial(settings.account_pool, cpus=runtime.cpus)
    pending = pending_accounts(store, manifest)
    # Finalize writes each account as soon as it is stored, while later ones are scanned (scan_feed.py).
    feed = ScanFeed(account.account_id for account in pending)
    # The baseline's state is loaded before the scan starts: read while 64 threads scan, each of its
    # thousands of reads and decompressions gives up the GIL and waits up to 5 ms to take it back.
    comparison = open_comparison(runtime, context)
    scanning = in_background(
        lambda: scan_pending(
            plan, store, pending, pool_size, feed.progress(outputs.progress), feed.keep, feed.admit
        ),
        feed,
    )
    # `missing` only answers for a scan the store lost.
    scans = scan_source(
        store, manifest, feed.wait, missing=partial(not_scanned, started=False), kept=feed.take
    )
    try:
        return finalize_run(context, scans, runtime, outputs, clock, comparison)
    finally:
        # Finalize has read every account, so the scan phase is over; after a failure, let it end first.
        feed.stop_reading()
        scanning.join()


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
