"""Fan-out mode: discover, one worker per account, finalize: the same report as single mode."""

from __future__ import annotations

import json

import boto3
import pytest

from iam_inventory.entrypoints import handlers as handler
from iam_inventory.pipeline import fanout
from iam_inventory_cli.commands import FakeLambdaContext as FakeContext
from iam_inventory_sim import DEMO_EXTERNAL_ID, AccountSpec, Fault, SimRequest
from tests.builders import NOW
from tests.integration.conftest import emf_blobs, list_s3_keys, read_s3_json
from tests.integration.test_collection_paths import estate as paths_estate

RUN_ID = "fanout-equivalence"
FOLDER = f"iam-inventory/runs/dt=2026-11-23/{RUN_ID}"


def estate() -> tuple[AccountSpec, ...]:
    return (*paths_estate(), AccountSpec("444444444444", "no-role", role="missing"))


@pytest.fixture
def fanout_env(seed, report_bucket, monkeypatch):
    seed(estate())
    for name, value in {
        "ACCOUNT_IDS": ",".join(account.account_id for account in estate()),
        "EXTERNAL_ID": DEMO_EXTERNAL_ID,
        "REPORT_BUCKET": report_bucket,
        "WORKERS": "2",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(handler, "utcnow", lambda: NOW)
    return report_bucket


def run_state_machine(event: dict, bucket: str) -> dict:
    """What the state machine does: Discover, then the Map's ItemReader + ItemSelector per item, Finalize."""
    run = handler.discover_handler(event, FakeContext())
    items = json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=run["accounts_key"])["Body"].read())
    for item in items:
        handler.worker_handler({"account": item, "run": run}, FakeContext())
    return handler.finalize_handler({"run": run}, FakeContext())


def without_durations(report: dict) -> dict:
    report = json.loads(json.dumps(report))
    report["run"].pop("finished_at")
    for entry in report["accounts"]:
        entry.pop("duration_ms")
    return report


def test_merged_report_equals_the_single_mode_report(fanout_env, capsys):
    # Given the estate scanned once in single mode, its report kept aside
    bucket = fanout_env
    single_summary = handler.lambda_handler({"run_id": RUN_ID, "baseline": True}, FakeContext())
    single = read_s3_json(bucket, f"{FOLDER}/report.json")
    single_csv = boto3.client("s3").get_object(Bucket=bucket, Key=f"{FOLDER}/findings.csv")["Body"].read()
    capsys.readouterr()

    # When the same run id goes through discover, one worker per account, and finalize
    summary = run_state_machine({"run_id": RUN_ID, "baseline": True}, bucket)

    # Then the merged report is the single-mode report, durations aside, and so is the CSV
    merged = read_s3_json(bucket, f"{FOLDER}/report.json")
    assert without_durations(merged) == without_durations(single)
    assert (
        boto3.client("s3").get_object(Bucket=bucket, Key=f"{FOLDER}/findings.csv")["Body"].read()
        == single_csv
    )
    assert summary["accounts"] == single_summary["accounts"]
    assert summary["accounts"]["failed"] == 1

    # And latest.json points at it, with the workers' files kept beside the report
    assert read_s3_json(bucket, "iam-inventory/latest.json")["run_id"] == RUN_ID
    assert f"{FOLDER}/fanout/results/111111111111.json" in list_s3_keys(bucket)

    # And the finalize step emitted the same run metrics as single mode
    totals = next(blob for blob in emf_blobs(capsys.readouterr().out) if "AccountsExpected" in blob)
    assert (totals["AccountsExpected"], totals["AccountsScanned"], totals["AccountsFailed"]) == (4, 3, 1)


def test_an_account_without_a_worker_result_is_reported_not_scanned(fanout_env):
    # Given a discovered run where one account's worker never stored a result
    bucket = fanout_env
    run = handler.discover_handler({"run_id": "fanout-missing"}, FakeContext())
    for account_id in ("111111111111", "333333333333", "444444444444"):
        handler.worker_handler({"account": {"account_id": account_id, "name": ""}, "run": run}, FakeContext())

    # When the run is finalized
    summary = handler.finalize_handler({"run": run}, FakeContext())

    # Then that account is in the report as not scanned, with why
    report = read_s3_json(bucket, "iam-inventory/runs/dt=2026-11-23/fanout-missing/report.json")
    dev = next(entry for entry in report["accounts"] if entry["account_id"] == "222222222222")
    assert (dev["status"], dev["error_code"]) == ("not_scanned", "NoWorkerResult")
    assert summary["accounts"]["not_scanned"] == 1


def test_a_throttled_account_is_handed_back_to_step_functions_for_a_retry(fanout_env, simulator, monkeypatch):
    # Given an account whose IAM throttles every call, and a worker with no time to wait it out
    bucket = fanout_env
    monkeypatch.setenv("MAX_ATTEMPTS", "1")
    run = handler.discover_handler({"run_id": "fanout-throttled"}, FakeContext())

    def throttle(request: SimRequest) -> Fault | None:
        if request.service == "iam" and request.caller_account == "222222222222":
            return Fault("Throttling", "Rate exceeded")
        return None

    simulator.faults.rules.append(throttle)

    # When the worker runs for it
    # Then it raises the error the state machine retries with backoff, and stores nothing
    with pytest.raises(fanout.AccountThrottled, match="222222222222"):
        handler.worker_handler(
            {"account": {"account_id": "222222222222", "name": "dev"}, "run": run},
            FakeContext(remaining_ms=30_000),
        )
    assert not [key for key in list_s3_keys(bucket) if key.endswith("results/222222222222.json")]


def test_result_round_trips_through_json_exactly(fanout_env):
    # Given a real scan result
    run = handler.discover_handler({"run_id": "fanout-codec"}, FakeContext())
    handler.worker_handler(
        {"account": {"account_id": "111111111111", "name": "prod"}, "run": run}, FakeContext()
    )
    stored = read_s3_json(
        fanout_env, f"{run['folder'].join(('iam-inventory/', ''))}/results/111111111111.json"
    )

    # Then decoding and encoding it again changes nothing
    assert fanout.result_to_dict(fanout.result_from_dict(stored)) == stored
    assert stored["collection_path"] == "credential_report"
