"""Fan-out mode, driven by statemachine/fanout.asl.json: the same report as single mode, and resumable."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest

from iam_inventory.entrypoints import handlers as handler
from iam_inventory.pipeline import fanout
from iam_inventory_cli.commands import FakeLambdaContext as FakeContext
from iam_inventory_sim import (
    DEMO_EXTERNAL_ID,
    HUB_ACCOUNT_ID,
    AccountSpec,
    Fault,
    KeySpec,
    SimRequest,
    UserSpec,
    seed_organization,
)
from iam_inventory_sim.credential_report import REPORT_TTL
from tests.builders import NOW
from tests.integration.conftest import (
    account_findings,
    add_import_role,
    comparable_report,
    emf_blobs,
    list_s3_keys,
    read_s3_json,
    record_assume_role,
)
from tests.stepfunctions import load_definition, run_execution, select

PROD, DATA, DEV, NO_ROLE, CLOSED = (
    "111111111111",
    "222222222222",
    "333333333333",
    "444444444444",
    "555555555555",
)
DAY = "dt=2026-11-23"
HANDLERS = {
    "discover": handler.discover_handler,
    "worker": handler.worker_handler,
    "finalize": handler.finalize_handler,
}


def organization() -> tuple[AccountSpec, ...]:
    """Nested OUs, users tagged with owner/team, one account without the role, one suspended."""
    return (
        AccountSpec(
            PROD,
            "prod",
            ou="Workloads/Prod",
            users=(
                UserSpec(
                    "alice", keys=(KeySpec(200, 1),), tags={"owner": "alice@example.com", "team": "pay"}
                ),
                UserSpec("bob", console=True, tags={"owner": "bob@example.com", "team": "web"}),
            ),
            root_access_key=True,
        ),
        AccountSpec(
            DATA,
            "prod-data",
            ou="Workloads/Prod/Data",
            users=(UserSpec("carol", keys=(KeySpec(30, None), KeySpec(5, 1)), tags={"owner": "carol"}),),
        ),
        AccountSpec(DEV, "dev", ou="Workloads/Dev", users=(UserSpec("dan", keys=(KeySpec(80, 60),)),)),
        AccountSpec(NO_ROLE, "no-role", ou="Workloads/Dev", role="missing"),
        AccountSpec(CLOSED, "closed", ou="Sandbox", state="SUSPENDED"),
    )


@pytest.fixture
def org_env(simulator, seed, report_bucket, monkeypatch):
    seed_organization(simulator.endpoint, organization())
    seed(organization())
    for name, value in {
        "ACCOUNT_SOURCE": "organizations",
        "EXTERNAL_ID": DEMO_EXTERNAL_ID,
        "REPORT_BUCKET": report_bucket,
        "WORKERS": "2",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(handler, "utcnow", lambda: NOW)
    return report_bucket


def test_organization_estate_gives_the_same_report_in_single_and_fanout_mode(
    org_env, simulator, monkeypatch, capsys
):
    # Given an Organizations estate run once in single mode under its own prefix
    bucket = org_env
    monkeypatch.setenv("REPORT_PREFIX", "single")
    single_summary = handler.lambda_handler({"run_id": "parity"}, FakeContext())
    single = read_s3_json(bucket, f"single/runs/{DAY}/parity/report.json")
    single_csv = boto3.client("s3").get_object(Bucket=bucket, Key=f"single/runs/{DAY}/parity/findings.csv")
    capsys.readouterr()

    # When, once IAM's cached credential reports have expired (so each run generates its own, as a
    # daily schedule does), the same run goes through the state machine file: Discover, the Map, Finalize
    simulator.clock.advance(REPORT_TTL + timedelta(seconds=1))
    monkeypatch.setenv("REPORT_PREFIX", "fanout")
    execution = run_execution({"run_id": "parity"}, HANDLERS, FakeContext)

    # Then the fan-out report is the single-mode report, timestamps aside: OU paths and user tags included
    merged = read_s3_json(bucket, f"fanout/runs/{DAY}/parity/report.json")
    assert comparable_report(merged) == comparable_report(single)
    fanout_csv = boto3.client("s3").get_object(Bucket=bucket, Key=f"fanout/runs/{DAY}/parity/findings.csv")
    assert fanout_csv["Body"].read() == single_csv["Body"].read()
    statuses = {entry["account_id"]: entry["status"] for entry in merged["accounts"]}
    assert statuses == {
        PROD: "scanned",
        DATA: "scanned",
        DEV: "scanned",
        NO_ROLE: "failed",
        CLOSED: "skipped",
        HUB_ACCOUNT_ID: "skipped",
    }
    ou_paths = {entry["account_id"]: entry["ou_path"] for entry in merged["accounts"]}
    assert ou_paths[DATA] == "Root/Workloads/Prod/Data"
    alice = [f for f in merged["findings"] if f["user_name"] == "alice"]
    assert alice
    assert {f["tags"]["owner"] for f in alice} == {"alice@example.com"}
    assert execution.output["accounts"] == single_summary["accounts"]
    assert {"account_id": NO_ROLE, "error_code": "AccessDenied"} in execution.output["failed_accounts"]

    # And each worker got exactly the ItemSelector's payload: one account and the run pointer
    assert [payload["account"]["account_id"] for payload in execution.worker_payloads] == [
        PROD,
        DATA,
        DEV,
        NO_ROLE,
    ]
    assert {payload["run"]["folder"] for payload in execution.worker_payloads} == {f"runs/{DAY}/parity"}
    assert f"fanout/runs/{DAY}/parity/accounts/{PROD}.json.gz" in list_s3_keys(bucket)

    # And finalize emitted the same run metrics as single mode
    totals = next(blob for blob in emf_blobs(capsys.readouterr().out) if "AccountsExpected" in blob)
    assert (totals["AccountsExpected"], totals["AccountsScanned"], totals["AccountsFailed"]) == (6, 3, 1)


def test_a_rerun_with_the_same_run_id_scans_only_accounts_not_stored(org_env, simulator):
    # Given a fan-out run whose worker for DEV never stored a scan (it failed after its retries)
    def worker_losing_dev(event, context):
        if event["account"]["account_id"] == DEV:
            raise RuntimeError("worker crashed")
        return handler.worker_handler(event, context)

    first = run_execution({"run_id": "resume"}, {**HANDLERS, "worker": worker_losing_dev}, FakeContext)
    report = read_s3_json(org_env, f"iam-inventory/runs/{DAY}/resume/report.json")
    dev = next(entry for entry in report["accounts"] if entry["account_id"] == DEV)
    assert (dev["status"], dev["error_code"]) == ("not_scanned", "NoWorkerResult")
    assert first.output["accounts"]["not_scanned"] == 1

    # When the execution is started again with the same run id
    assumed = record_assume_role(simulator)
    second = run_execution({"run_id": "resume"}, HANDLERS, FakeContext)

    # Then only DEV is handed to a worker and assumed, and the run is now complete
    assert [payload["account"]["account_id"] for payload in second.worker_payloads] == [DEV]
    assert assumed == [DEV]
    assert second.output["accounts"]["not_scanned"] == 0
    assert second.output["accounts"]["scanned"] == 3

    # And a redriven worker for an account already stored assumes nothing
    assert handler.worker_handler(second.worker_payloads[0], FakeContext())["status"] == "stored"
    assert len(assumed) == 1


def test_a_throttled_account_is_handed_back_to_step_functions_for_a_retry(org_env, simulator, monkeypatch):
    # Given an account whose IAM throttles every call, and a worker with no time to wait it out
    monkeypatch.setenv("MAX_ATTEMPTS", "1")
    definition = load_definition()
    run = handler.discover_handler({"run_id": "throttled"}, FakeContext())
    state = select(definition["States"]["Discover"]["ResultSelector"], {"Payload": run})
    item = {"account_id": DATA, "name": "prod-data", "ou_path": "Root/Workloads/Prod/Data"}
    payload = select(
        definition["States"]["ScanAccounts"]["ItemSelector"], state, {"Map": {"Item": {"Value": item}}}
    )

    def throttle(request: SimRequest) -> Fault | None:
        if request.service == "iam" and request.caller_account == DATA:
            return Fault("Throttling", "Rate exceeded")
        return None

    simulator.faults.rules.append(throttle)

    # When the worker runs for it
    # Then it raises the error the state machine file retries with backoff, and stores nothing
    with pytest.raises(fanout.AccountThrottled, match=DATA):
        handler.worker_handler(payload, FakeContext(remaining_ms=30_000))
    retry = definition["States"]["ScanAccounts"]["ItemProcessor"]["States"]["ScanAccount"]["Retry"][0]
    assert "AccountThrottled" in retry["ErrorEquals"]
    assert not [key for key in list_s3_keys(org_env) if key.endswith(f"accounts/{DATA}.json.gz")]


def test_discover_reads_an_ssm_account_list(org_env, monkeypatch):
    # Given the account list in an SSM parameter instead of Organizations
    boto3.client("ssm").put_parameter(
        Name="/iam-inventory/accounts", Value=f"{DEV},{PROD}", Type="StringList"
    )
    monkeypatch.setenv("ACCOUNT_SOURCE", "static")
    monkeypatch.setenv("ACCOUNT_IDS_PARAMETER", "/iam-inventory/accounts")

    # When the state machine's Discover step runs
    run = handler.discover_handler({"run_id": "from-ssm"}, FakeContext())

    # Then the Map's items are those accounts, in the parameter's order
    items = json.loads(boto3.client("s3").get_object(Bucket=org_env, Key=run["items_key"])["Body"].read())
    assert [item["account_id"] for item in items] == [DEV, PROD]
    assert run["accounts"] == 2


def test_discover_refuses_an_invalid_exceptions_file_before_writing_any_item(org_env, monkeypatch, simulator):
    # Given an exceptions file in S3 whose only entry has no `expires`
    bad = {"version": 1, "exceptions": [{"id": "x", "match": {"user": "a"}, "owner": "o", "reason": "r"}]}
    boto3.client("s3").put_object(Bucket=org_env, Key="config/exceptions.json", Body=json.dumps(bad).encode())
    monkeypatch.setenv("EXCEPTIONS_S3_URI", f"s3://{org_env}/config/exceptions.json")
    simulator.faults.operations.clear()
    # When the state machine's Discover step runs, then it fails naming the entry and field
    with pytest.raises(Exception, match=r"exceptions file s3://.*invalid.*expires"):
        handler.discover_handler({"run_id": "bad-exceptions"}, FakeContext())
    # And nothing was discovered or written for the Map
    assert simulator.faults.operations["organizations:ListAccountsForParent"] == 0
    assert simulator.faults.operations["s3:PutObject"] == 0
    # And once the entry is fixed, the same step discovers and writes its items
    bad["exceptions"][0]["expires"] = "2027-01-31"
    boto3.client("s3").put_object(Bucket=org_env, Key="config/exceptions.json", Body=json.dumps(bad).encode())
    run = handler.discover_handler({"run_id": "good-exceptions"}, FakeContext())
    assert run["accounts"] > 0
    assert simulator.faults.operations["organizations:ListAccountsForParent"] > 0


def test_fanout_finalize_exports_to_each_accounts_security_hub_through_its_import_role(
    org_env, simulator, monkeypatch
):
    # Given Security Hub export, and the import role in prod and dev but not in prod-data
    monkeypatch.setenv("SECURITY_HUB_EXPORT", "true")
    for account_id in (PROD, DEV):
        add_import_role(simulator, account_id)
    # When a baseline run goes through the state machine file
    execution = run_execution({"run_id": "hub", "baseline": True}, HANDLERS, FakeContext)
    # Then finalize imported prod's and dev's findings into their own Security Hub, and counted prod-data
    assert {f["AwsAccountId"] for f in account_findings(simulator, PROD)} == {PROD}
    assert {f["AwsAccountId"] for f in account_findings(simulator, DEV)} == {DEV}
    assert account_findings(simulator, DATA) == []
    line = execution.output["published"]["securityhub"]
    assert line.startswith(
        f"{len(account_findings(simulator, PROD)) + len(account_findings(simulator, DEV))} imported"
    )
    assert line.endswith("1 accounts refused the import role")
