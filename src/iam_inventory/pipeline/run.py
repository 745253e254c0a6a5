"""The steps both run modes share around scan_account: plan, resume, map, read back."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

from iam_inventory.core.budget import Deadline, map_within_deadline
from iam_inventory.core.observability import logger
from iam_inventory.discover.discovery import Discovery
from iam_inventory.models import Account, AccountResult, AccountStatus, RunContext
from iam_inventory.models.codec import RunManifest
from iam_inventory.models.scan import AccountScan
from iam_inventory.pipeline.finalize import ScanSource
from iam_inventory.pipeline.previous import previous_scans
from iam_inventory.pipeline.runtime import READ_AHEAD, Runtime, resolve_external_id
from iam_inventory.pipeline.scan import AccountPlan, Progress, ScanPlan, not_scanned, scan_account
from iam_inventory.pipeline.scan_store import (
    ScanStore,
    get_manifest,
    get_scan,
    put_manifest,
    put_scan,
    stored_account_ids,
)


def account_plan(runtime: Runtime, context: RunContext, deadline: Deadline | None) -> AccountPlan:
    """What scan_account needs for this run; resolves (and masks) the ExternalId."""
    return AccountPlan(
        context=context,
        factory=runtime.factory,
        sts=runtime.factory.hub_client("sts"),
        external_id=resolve_external_id(runtime),
        redact=runtime.redact,
        scan=ScanPlan.from_settings(runtime.settings, deadline),
        # Where finalize reads the previous run from, the scans read the previous run's key ids.
        previous=previous_scans(runtime.location.run_store(), context.run_id),
    )


def open_manifest(store: ScanStore, context: RunContext, discover: Callable[[], Discovery]) -> RunManifest:
    """The run's manifest: the stored one when this run id already started (resume), else a new one."""
    stored = get_manifest(store)
    if stored is not None and stored.context.run_id == context.run_id:
        logger.info("resuming run", extra={"run_id": context.run_id, "accounts_expected": stored.expected})
        return stored
    discovery = discover()
    manifest = RunManifest(context=context, to_scan=discovery.to_scan, skipped=discovery.skipped)
    put_manifest(store, manifest)
    return manifest


def pending_accounts(store: ScanStore, manifest: RunManifest) -> list[Account]:
    """The accounts of the run whose scan is not stored yet, in discovery order."""
    stored = stored_account_ids(store)
    if stored:
        logger.info("accounts already stored are skipped", extra={"stored": len(stored)})
    return [account for account in manifest.to_scan if account.account_id not in stored]


def scan_and_store(
    plan: AccountPlan, store: ScanStore, account: Account, stored: Callable[[AccountScan], None] | None = None
) -> AccountResult:
    """Scan one account and store its scan at once (then hand it to `stored`); return the slim result."""
    scan = scan_account(plan, account)
    put_scan(store, scan)
    if stored is not None:
        stored(scan)
    return replace(scan.result, inventory=None)


def scan_pending(
    plan: AccountPlan,
    store: ScanStore,
    pending: list[Account],
    pool_size: Callable[[int], int],
    progress: Progress | None = None,
    stored: Callable[[AccountScan], None] | None = None,
    admit: Callable[[], None] = lambda: None,
) -> dict[str, AccountResult]:
    """Scan in-process (`pool_size(pending)` at once) the accounts not stored yet; return the unfinished.

    `admit()` is called on the worker before each account starts (single mode: it waits while finalize
    is behind).
    """
    workers = pool_size(len(pending))
    logger.info("scanning accounts", extra={"pending": len(pending), "workers": workers})

    def scan(account: Account) -> AccountResult:
        admit()
        return scan_and_store(plan, store, account, stored)

    results = map_within_deadline(
        pending,
        scan,
        workers,
        plan.scan.deadline,
        plan.scan.grace_seconds,
        not_scanned,
        on_done=progress,
    )
    return {
        result.account.account_id: result for result in results if result.status is AccountStatus.NOT_SCANNED
    }


def scan_source(
    store: ScanStore,
    manifest: RunManifest,
    finished: Callable[[str], AccountResult | None],
    missing: Callable[[Account], AccountResult],
    kept: Callable[[str], AccountScan | None] = lambda _account_id: None,
) -> ScanSource:
    """Every account of the run as an AccountScan, in discovery order, read from the store as needed.

    `finished(account_id)` returns once the account is finished: None when it is stored, else the result
    it ended with (single mode waits there on accounts still being scanned; fan-out's are all finished).
    `kept(account_id)` is the stored scan when it is still in memory (single mode's hand-over), else None.
    """
    run_id = manifest.context.run_id

    def scans() -> Iterator[AccountScan]:
        def read(account: Account) -> AccountScan:
            unfinished = finished(account.account_id)
            stored = kept(account.account_id) or get_scan(store, account.account_id)
            if stored is not None:
                return stored
            result = unfinished or missing(account)
            return AccountScan(run_id=run_id, result=result)

        with ThreadPoolExecutor(max_workers=READ_AHEAD, thread_name_prefix="read") as pool:
            ahead: deque[Future[AccountScan]] = deque()
            for account in manifest.to_scan:
                ahead.append(pool.submit(read, account))
                if len(ahead) >= READ_AHEAD:
                    yield ahead.popleft().result()
            while ahead:
                yield ahead.popleft().result()
        for skipped in manifest.skipped:
            yield AccountScan(run_id=run_id, result=skipped)

    return scans
