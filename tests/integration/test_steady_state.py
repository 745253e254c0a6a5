"""Steady-state runs: when the run generated the report, key ids come from the previous run's scan.

Each scenario runs a baseline, changes the estate as an admin would, and waits past IAM's 4-hour
report cache, so the next run generates its reports (STARTED). A reference run into a folder of its
own (no previous run: every key listed) reads the same estate; the steady-state run must equal it,
with ListAccessKeys only for the users whose keys changed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import iam_inventory.pipeline.run as pipeline_run
from iam_inventory.config.events import RunRequest
from iam_inventory.entrypoints.bootstrap import bootstrap
from iam_inventory.pipeline.finalize import Outputs
from iam_inventory.pipeline.job import run_job
from iam_inventory.pipeline.outcome import RunOutcome
from iam_inventory_sim import (
    DEMO_EXTERNAL_ID,
    AccountSpec,
    KeySpec,
    Simulator,
    UserSpec,
    admin_client,
    backdate_key,
)
from iam_inventory_sim.credential_report import REPORT_TTL
from tests.builders import NOW

PROD, DEV = "111111111111", "222222222222"
FOLDER = "runs/dt=2026-11-23"


def estate() -> tuple[AccountSpec, ...]:
    return (
        AccountSpec(
            PROD,
            "prod",
            users=(
                UserSpec("ci", keys=(KeySpec(120, 1),)),
                UserSpec("app", keys=(KeySpec(200, 3), KeySpec(20, None))),
                UserSpec("ops", console=True, keys=(KeySpec(60, 50),)),
                UserSpec("reader"),
                UserSpec("batch", keys=(KeySpec(10, 2),)),
            ),
        ),
        AccountSpec(DEV, "dev", users=(UserSpec("dev-ci", keys=(KeySpec(40, 1),)), UserSpec("human"))),
    )


Run = Callable[..., RunOutcome]


@pytest.fixture
def run(simulator: Simulator, seed: Callable[..., dict]) -> Run:
    """Run the job as the schedule does into `out` (each run becomes the next one's baseline)."""

    def _run(out: Path, run_id: str, started: datetime = NOW, **env: str) -> RunOutcome:
        environ = {
            **os.environ,
            "ACCOUNT_IDS": f"{PROD},{DEV}",
            "EXTERNAL_ID": DEMO_EXTERNAL_ID,
            "USER_TAG_KEYS": "owner,team",
            **env,
        }
        environ.pop("REPORT_BUCKET", None)
        return run_job(
            RunRequest(source="schedule", run_id=run_id),
            bootstrap(environ, local_dir=out),
            lambda: started,
            "r",
            Outputs(),
        )

    return _run


def next_report(simulator: Simulator) -> None:
    """Past IAM's 4-hour cache: the next GenerateCredentialReport starts a new report."""
    simulator.clock.advance(REPORT_TTL + timedelta(seconds=1))


def listed(simulator: Simulator) -> int:
    return simulator.faults.operations["iam:ListAccessKeys"]


def outputs(out: Path) -> dict[str, Any]:
    """What a run found: its inventory and findings (without what differs between any two runs)."""
    report = json.loads((out / "report.json").read_text())
    findings = sorted(
        (f["finding_id"], f["rule_id"], f["measured_value"], f["verified_live"]) for f in report["findings"]
    )
    failed = [(e["account_id"], e["status"]) for e in report["accounts"]]
    return {"inventory": report["inventory"], "findings": findings, "accounts": failed}


def steady_and_reference(simulator: Simulator, run: Run, tmp_path: Path) -> tuple[dict, dict, int]:
    """The reference (every key listed) and the steady-state run on the same estate; the latter's listings."""
    next_report(simulator)
    run(tmp_path / "reference", "reference")
    next_report(simulator)
    before = listed(simulator)
    outcome = run(tmp_path / "out", "second")
    assert outcome.report["summary"]["accounts"]["scanned"] == 2
    return outputs(tmp_path / "out"), outputs(tmp_path / "reference"), listed(simulator) - before


def key_ids(report: dict[str, Any], user_name: str) -> list[str]:
    (user,) = [u for account in report["inventory"] for u in account["users"] if u["user_name"] == user_name]
    return [key["access_key_id"] for key in user["access_keys"]]


def test_an_unchanged_estate_lists_no_key_and_finds_the_same(seed, simulator, run, tmp_path):
    # Given a baseline run of the estate
    seed(estate())
    run(tmp_path / "out", "first")
    first = outputs(tmp_path / "out")

    # When the estate is scanned again with a report this run generated
    steady, reference, listings = steady_and_reference(simulator, run, tmp_path)

    # Then no ListAccessKeys was made, and inventory and findings equal both a full listing and the baseline
    assert listings == 0
    assert steady == reference == first


def test_a_rotated_key_is_listed_for_that_user_only(seed, simulator, run, tmp_path):
    # Given a baseline, then ci's key rotated (a new key, the old one deleted)
    ids = seed(estate())
    run(tmp_path / "out", "first")
    iam = admin_client(simulator, "iam", PROD)
    new = iam.create_access_key(UserName="ci")["AccessKey"]["AccessKeyId"]
    backdate_key(PROD, "ci", new, NOW - timedelta(days=2, hours=1))
    iam.delete_access_key(UserName="ci", AccessKeyId=ids[(PROD, "ci", 0)])

    # When scanned in steady state
    steady, reference, listings = steady_and_reference(simulator, run, tmp_path)

    # Then only ci's keys were listed, and its new key is the one inventoried
    assert listings == 1
    assert steady == reference
    assert key_ids(steady, "ci") == [new]


@pytest.mark.parametrize("change", ["deleted", "created"])
def test_a_deleted_or_created_key_is_listed(seed, simulator, run, tmp_path, change):
    # Given a baseline, then one of app's two keys deleted, or batch given a second key
    ids = seed(estate())
    run(tmp_path / "out", "first")
    iam = admin_client(simulator, "iam", PROD)
    if change == "deleted":
        iam.delete_access_key(UserName="app", AccessKeyId=ids[(PROD, "app", 1)])
    else:
        created = iam.create_access_key(UserName="batch")["AccessKey"]["AccessKeyId"]
        backdate_key(PROD, "batch", created, NOW - timedelta(days=1, hours=1))

    # When scanned in steady state
    steady, reference, listings = steady_and_reference(simulator, run, tmp_path)

    # Then that user alone was listed, and the inventory holds exactly its keys now
    assert listings == 1
    assert steady == reference
    expected = [ids[(PROD, "app", 0)]] if change == "deleted" else [ids[(PROD, "batch", 0)], created]
    assert key_ids(steady, "app" if change == "deleted" else "batch") == expected


def test_a_deactivated_key_takes_its_status_from_the_new_report_without_a_listing(
    seed, simulator, run, tmp_path
):
    # Given a baseline, then ops's key deactivated
    ids = seed(estate())
    run(tmp_path / "out", "first")
    admin_client(simulator, "iam", PROD).update_access_key(
        UserName="ops", AccessKeyId=ids[(PROD, "ops", 0)], Status="Inactive"
    )

    # When scanned in steady state
    steady, reference, listings = steady_and_reference(simulator, run, tmp_path)

    # Then nothing was listed (same key, same creation second) and the key is Inactive, as listed
    assert listings == 0
    assert steady == reference
    (ops,) = [u for a in steady["inventory"] for u in a["users"] if u["user_name"] == "ops"]
    assert [key["status"] for key in ops["access_keys"]] == ["Inactive"]


def test_a_user_recreated_under_its_name_is_listed_even_with_a_key_of_the_same_second(
    seed, simulator, run, tmp_path
):
    # Given a baseline, then ci deleted and recreated, with a key dated to the old key's very second
    ids = seed(estate())
    run(tmp_path / "out", "first")
    iam = admin_client(simulator, "iam", PROD)
    old_key = iam.list_access_keys(UserName="ci")["AccessKeyMetadata"][0]
    iam.delete_access_key(UserName="ci", AccessKeyId=ids[(PROD, "ci", 0)])
    iam.delete_user(UserName="ci")
    iam.create_user(UserName="ci")
    new = iam.create_access_key(UserName="ci")["AccessKey"]["AccessKeyId"]
    backdate_key(PROD, "ci", new, old_key["CreateDate"])

    # When scanned in steady state
    steady, reference, listings = steady_and_reference(simulator, run, tmp_path)

    # Then its new UserId sent it to ListAccessKeys, and the inventory holds the new key
    assert listings == 1
    assert steady == reference
    assert key_ids(steady, "ci") == [new]


def test_two_keys_in_one_second_are_listed_on_every_run(seed, simulator, run, tmp_path):
    # Given a user whose two keys were created in the same second
    ids = seed(estate())
    created = NOW - timedelta(days=30, hours=1)
    for slot in (0, 1):
        backdate_key(PROD, "app", ids[(PROD, "app", slot)], created)
    run(tmp_path / "out", "first")

    # When scanned in steady state
    steady, reference, listings = steady_and_reference(simulator, run, tmp_path)

    # Then its keys were listed (one second names two keys: no exact match), and nothing else
    assert listings == 1
    assert steady == reference


def test_a_previous_run_with_other_thresholds_changes_no_finding(seed, simulator, run, tmp_path):
    # Given a baseline run with other thresholds (keys too old after 30 days, unused after 10)
    seed(estate())
    run(tmp_path / "out", "first", MAX_KEY_AGE_DAYS="30", UNUSED_KEY_DAYS="10", NEVER_USED_GRACE_DAYS="3")

    # When scanned in steady state at the defaults
    steady, reference, listings = steady_and_reference(simulator, run, tmp_path)

    # Then only key ids were reused: the findings are the defaults' findings
    assert listings == 0
    assert steady == reference


def test_a_corrupt_previous_scan_means_listing_that_account(seed, simulator, run, tmp_path):
    # Given a baseline whose stored scan of prod is damaged
    seed(estate())
    run(tmp_path / "out", "first")
    (tmp_path / "out" / FOLDER / "first" / "accounts" / f"{PROD}.json.gz").write_bytes(b"\x1f\x8b not gzip")

    # When scanned in steady state
    steady, reference, listings = steady_and_reference(simulator, run, tmp_path)

    # Then prod's users with keys were all listed (4), dev's none, and the run is unchanged
    assert listings == 4
    assert steady == reference


def test_a_resumed_steady_state_run_equals_an_uninterrupted_one(seed, simulator, run, tmp_path, monkeypatch):
    # Given a baseline, and a steady-state run that dies storing dev's scan
    seed(estate())
    run(tmp_path / "out", "first")
    next_report(simulator)
    run(tmp_path / "reference", "reference")
    next_report(simulator)
    store_scan = pipeline_run.put_scan

    def dies_at_dev(store: Any, scan: Any) -> None:
        if scan.result.account.account_id == DEV:
            raise OSError("disk full")
        store_scan(store, scan)

    monkeypatch.setattr(pipeline_run, "put_scan", dies_at_dev)
    with pytest.raises(OSError):
        run(tmp_path / "out", "second", WORKERS="1")
    monkeypatch.setattr(pipeline_run, "put_scan", store_scan)

    # When the run is resumed with its run id (after IAM's cache, so it generates dev's report again)
    next_report(simulator)
    before = listed(simulator)
    run(tmp_path / "out", "second", WORKERS="1")

    # Then dev's keys came from the baseline's scan (the run's own partial scans are not its baseline)
    assert listed(simulator) - before == 0
    assert outputs(tmp_path / "out") == outputs(tmp_path / "reference")


def test_a_started_report_dated_before_the_run_is_not_fresh_and_every_key_is_listed(
    seed, simulator, run, tmp_path
):
    # Given a baseline, and IAM answering STARTED with reports dated 3 hours before the next run
    seed(estate())
    run(tmp_path / "out", "first")
    next_report(simulator)
    simulator.credential_reports.generated_time_lag = timedelta(hours=3)
    before = listed(simulator)

    # When scanned again, the run starting at IAM's present
    run(tmp_path / "out", "second", started=simulator.clock.now())

    # Then the reports are not this run's (issue 21's freshness: STARTED and dated since the run began),
    # so no key id is reused: every user's keys are listed, as with a cached report (7 users)
    assert listed(simulator) - before == 7
