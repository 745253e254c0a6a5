"""Fan-out mode: the same run split across a Step Functions Distributed Map, one worker per account.

discover_run fixes the run (its manifest in the scan store) and writes the Map's item list; the Map
(statemachine/fanout.asl.json) calls scan_worker once per account, which runs the same scan_account as
single mode and stores the AccountScan; finalize_fanout reads the store through the same finalize_run.
"""

from __future__ import annotations

from typing import Any

from iam_inventory.config.events import RunRequest
from iam_inventory.config.fanout_events import (
    FinalizeEvent,
    MapError,
    RunPointer,
    WorkerEvent,
    parse_fanout_event,
)
from iam_inventory.config.settings import ConfigError
from iam_inventory.core.budget import Deadline
from iam_inventory.core.clock import Clock
from iam_inventory.core.observability import logger
from iam_inventory.core.retry import THROTTLING_CODES
from iam_inventory.discover.accounts import discover_accounts
from iam_inventory.models import Account, AccountResult, AccountStatus
from iam_inventory.models.codec import RunManifest, decode_item, encode_items
from iam_inventory.pipeline.finalize import Outputs, finalize_run, load_exceptions
from iam_inventory.pipeline.job import build_run_context
from iam_inventory.pipeline.outcome import RunOutcome
from iam_inventory.pipeline.run import account_plan, open_manifest, pending_accounts, scan_source
from iam_inventory.pipeline.runtime import Runtime, resolve_external_id
from iam_inventory.pipeline.scan import scan_account
from iam_inventory.pipeline.scan_store import (
    ScanStore,
    get_manifest,
    has_scan,
    put_scan,
    scan_folder,
)

NO_RESULT_CODE = "NoWorkerResult"
ITEMS = "items.json"


class AccountThrottled(RuntimeError):
    """The account stayed throttled until the worker's time ran out; Step Functions retries it later."""


class RunNotFound(ConfigError):
    """A worker or finalize event names a run whose manifest is not in the store."""


def discover_run(request: RunRequest, runtime: Runtime, clock: Clock, request_id: str) -> RunPointer:
    """Fix the run (or resume it), write the Map's items (accounts not stored yet); return the run pointer."""
    settings, factory = runtime.settings, runtime.factory
    if not settings.report_bucket:
        raise ConfigError(
            "invalid configuration: environment variable REPORT_BUCKET: required in fanout mode"
        )
    context = build_run_context(request, settings, clock(), request_id)
    logger.set_correlation_id(context.run_id)
    # Validate the exceptions before any worker starts; finalize reads them again (one source of truth).
    load_exceptions(settings, factory, context, Outputs())
    folder = scan_folder(context)
    store = runtime.location.fanout_scan_store(settings.report_bucket, folder)
    manifest = open_manifest(
        store, context, lambda: discover_accounts(settings, request.accounts, factory, context.run_id)
    )
    items = pending_accounts(store, manifest)
    store.put(ITEMS, encode_items(items))
    logger.info(
        "fan-out run discovered", extra={"accounts_expected": manifest.expected, "pending": len(items)}
    )
    return RunPointer(
        run_id=context.run_id,
        bucket=settings.report_bucket,
        folder=folder,
        items_key=runtime.location.key(folder, ITEMS),
        accounts=len(items),
    )


def scan_worker(event: dict[str, Any], runtime: Runtime, deadline: Deadline) -> dict[str, Any]:
    """Scan one account as single mode does and store it; AccountThrottled asks Step Functions to retry."""
    worker = parse_fanout_event(WorkerEvent, event)
    run = worker.run
    account = decode_item(worker.account)
    store = runtime.location.fanout_scan_store(run.bucket, run.folder)
    manifest = _manifest(store, run)
    context = manifest.context
    logger.set_correlation_id(context.run_id)
    if has_scan(store, account.account_id):
        # A retried or redriven item whose scan is stored already: no second AssumeRole.
        return {"account_id": account.account_id, "status": "stored"}
    plan = account_plan(runtime, context, deadline)
    scan = scan_account(plan, account)
    result = scan.result
    if result.status is AccountStatus.FAILED and result.error_code in THROTTLING_CODES:
        # Nothing is stored: the retry (Step Functions backs off) stores the scan, or finalize
        # reports the account as not scanned.
        raise AccountThrottled(f"account {account.account_id} stayed throttled: {result.error_code}")
    put_scan(store, scan)
    return {"account_id": account.account_id, "status": result.status.value}


def finalize_fanout(event: dict[str, Any], runtime: Runtime, clock: Clock) -> RunOutcome:
    """Merge the stored scans, in discovery order, through the same finalize as single mode; a Map failure
    (`map_error`, from the state machine's Catch) fails the run so that it never becomes the baseline."""
    finalize = parse_fanout_event(FinalizeEvent, event)
    run = finalize.run
    store = runtime.location.fanout_scan_store(run.bucket, run.folder)
    manifest = _manifest(store, run)
    logger.set_correlation_id(manifest.context.run_id)
    scans = scan_source(store, manifest, _all_finished, missing=_no_worker_result)
    # Only the Security Hub export needs the ExternalId here: the import roles trust it like the read role.
    external_id = resolve_external_id(runtime) if runtime.settings.security_hub_export else None
    outputs = Outputs(
        metrics=runtime.metrics,
        external_id=external_id,
        redact=runtime.redact,
        failed_because=map_failure(finalize.map_error),
    )
    return finalize_run(manifest.context, scans, runtime, outputs, clock)


def map_failure(map_error: MapError | None) -> str | None:
    """Why the run failed, when the Map state failed and its Catch handed finalize the error.

    Only the error name is kept: the cause may quote a worker's error payload, which is not for a report.
    """
    if map_error is None:
        return None
    return f"the Distributed Map failed: {map_error.error or 'unknown error'}"


def _manifest(store: ScanStore, run: RunPointer) -> RunManifest:
    manifest = get_manifest(store)
    if manifest is None or manifest.context.run_id != run.run_id:
        raise RunNotFound(f"run {run.run_id!r}: no manifest under {run.folder}")
    return manifest


def _all_finished(_account_id: str) -> AccountResult | None:
    # Finalize starts after the Map: every worker has stored its scan or never will.
    return None


def _no_worker_result(account: Account) -> AccountResult:
    return AccountResult(
        account=account,
        status=AccountStatus.NOT_SCANNED,
        error_code=NO_RESULT_CODE,
        error_message="no worker result: the worker failed after its retries or never ran",
    )
