"""The scan store and the scan source: layout, resume bookkeeping, discovery order (no AWS)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from iam_inventory.discover.discovery import Discovery
from iam_inventory.models import Account, AccountResult, AccountStatus, RunContext, Thresholds
from iam_inventory.models.codec import RunManifest
from iam_inventory.models.scan import AccountScan
from iam_inventory.pipeline.run import open_manifest, pending_accounts, scan_source
from iam_inventory.pipeline.scan_store import (
    LocalScanStore,
    MemoryScanStore,
    ScanStore,
    get_scan,
    put_scan,
    scan_folder,
    stored_account_ids,
)
from tests.builders import NOW, make_inventory

CONTEXT = RunContext(
    run_id="run-7",
    started_at=NOW,
    dry_run=False,
    thresholds=Thresholds(),
    role_name="IAMListRole",
    role_path="/",
    trigger="schedule",
)
ACCOUNTS = tuple(Account(f"{index}" * 12) for index in range(1, 6))
SKIPPED = AccountResult(Account("999999999999"), AccountStatus.SKIPPED, error_code="HubAccount")


def scanned(account: Account) -> AccountScan:
    inventory = make_inventory(account_id=account.account_id)
    return AccountScan("run-7", AccountResult(account, AccountStatus.SCANNED, inventory=inventory))


@pytest.fixture(params=["memory", "local"])
def store(request, tmp_path: Path) -> ScanStore:
    if request.param == "memory":
        return MemoryScanStore()
    return LocalScanStore(tmp_path, scan_folder(CONTEXT))


def test_the_run_folder_is_fixed_by_start_day_and_run_id():
    assert scan_folder(CONTEXT) == "runs/dt=2026-11-23/run-7"


def test_local_store_writes_the_documented_layout(tmp_path: Path):
    # Given a local store under --out
    store = LocalScanStore(tmp_path, scan_folder(CONTEXT))
    # When one account is stored
    put_scan(store, scanned(ACCOUNTS[0]))
    # Then it is <out>/runs/dt=.../<run_id>/accounts/<id>.json.gz, and nothing else is left behind
    folder = tmp_path / "runs/dt=2026-11-23/run-7/accounts"
    assert [path.name for path in folder.iterdir()] == ["111111111111.json.gz"]


def test_a_new_run_stores_its_manifest_and_a_second_start_resumes_it(store: ScanStore):
    # Given a run started with a discovery
    discoveries = []

    def discover() -> Discovery:
        discoveries.append(1)
        return Discovery(to_scan=ACCOUNTS, skipped=(SKIPPED,))

    first = open_manifest(store, CONTEXT, discover)
    put_scan(store, scanned(ACCOUNTS[0]))
    put_scan(store, scanned(ACCOUNTS[2]))

    # When the same run id starts again, later
    later = replace(CONTEXT, started_at=NOW.replace(hour=9))
    again = open_manifest(store, later, discover)

    # Then discovery ran once, the first context is kept, and only unstored accounts are pending
    assert len(discoveries) == 1
    assert again == first
    assert again.context.started_at == NOW
    assert stored_account_ids(store) == {"111111111111", "333333333333"}
    assert [a.account_id for a in pending_accounts(store, again)] == [
        "222222222222",
        "444444444444",
        "555555555555",
    ]


def test_the_scan_source_yields_every_account_in_discovery_order_and_can_be_read_twice(store: ScanStore):
    # Given three accounts stored, one unfinished, one missing, and one skipped
    manifest = RunManifest(context=CONTEXT, to_scan=ACCOUNTS, skipped=(SKIPPED,))
    for account in (ACCOUNTS[0], ACCOUNTS[1], ACCOUNTS[3]):
        put_scan(store, scanned(account))
    unfinished = {
        ACCOUNTS[2].account_id: AccountResult(ACCOUNTS[2], AccountStatus.NOT_SCANNED, error_code="T")
    }

    def missing(account: Account) -> AccountResult:
        return AccountResult(account, AccountStatus.NOT_SCANNED, error_code="NoWorkerResult")

    source = scan_source(store, manifest, unfinished.get, missing)

    # When it is read (twice, as a streaming finalize may)
    first = [
        (scan.result.account.account_id, scan.result.status, scan.result.error_code) for scan in source()
    ]
    second = [(scan.result.account.account_id, scan.result.status) for scan in source()]

    # Then every account is there once, in discovery order, skipped last
    assert first == [
        ("111111111111", AccountStatus.SCANNED, None),
        ("222222222222", AccountStatus.SCANNED, None),
        ("333333333333", AccountStatus.NOT_SCANNED, "T"),
        ("444444444444", AccountStatus.SCANNED, None),
        ("555555555555", AccountStatus.NOT_SCANNED, "NoWorkerResult"),
        ("999999999999", AccountStatus.SKIPPED, "HubAccount"),
    ]
    assert second == [(account_id, status) for account_id, status, _ in first]
    assert get_scan(store, "111111111111") == scanned(ACCOUNTS[0])


def test_the_scan_source_takes_a_scan_handed_over_in_memory_before_reading_the_store(store: ScanStore):
    # Given two accounts stored, the first also handed over in memory (as single mode's scan does)
    manifest = RunManifest(context=CONTEXT, to_scan=ACCOUNTS[:2])
    for account in ACCOUNTS[:2]:
        put_scan(store, scanned(account))
    handed = replace(scanned(ACCOUNTS[0]), run_id="handed-over")
    kept = {ACCOUNTS[0].account_id: handed}
    # When finalize reads the run
    source = scan_source(
        store,
        manifest,
        lambda _id: None,
        lambda account: SKIPPED,
        kept=lambda account_id: kept.pop(account_id, None),
    )
    first = list(source())
    # Then the first account is the scan in memory (the store is not read for it), the second the store's
    assert first == [handed, scanned(ACCOUNTS[1])]
    # And a second reading, with nothing held any more, reads the store for both
    assert list(source()) == [scanned(ACCOUNTS[0]), scanned(ACCOUNTS[1])]
