"""Fan-out mode: statemachine/fanout.asl.json on moto's Step Functions interpreter, with the real handlers.

Each execution is started and read back through the Step Functions API (tests/integration/fanout_machine.py
says what is patched, and why). The same report as single mode; throttling retried with the file's
back-off; a failing worker tolerated, too many of them caught; a resumed run scans only what is missing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import boto3
import pytest

from iam_inventory.entrypoints import handlers as handler
from iam_inventory_cli.invoke_command import FakeLambdaContext as FakeContext
from iam_inventory_sim import (
    DEMO_EXTERNAL_ID,
    HUB_ACCOUNT_ID,
    AccountSpec,
    Fault,
    KeySpec,
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
from tests.integration.fanout_machine import (
    Execution,
    FanoutMachine,
    Interpreter,
    deploy,
    running_interpreter,
)

PROD, DATA, DEV, NO_ROLE, CLOSED = (
    "111111111111",
    "222222222222",
    "333333333333",
    "444444444444",
    "555555555555",
)
DAY = "dt=2026-11-23"
ROOT = Path(__file__).resolve().parents[2]
WORKER = "FanoutWorkerFunction"
FINALIZE = "FanoutFinalizeFunction"


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


@pytest.fixture
def interpreter(simulator) -> Iterator[Interpreter]:
    with running_interpreter(simulator.endpoint) as running:
        yield running


@pytest.fixture
def machine(interpreter) -> FanoutMachine:
    """The state machine as the template deploys it, with the template's default parameters."""
    return deploy()


def worker_calls(interpreter: Interpreter, account_id: str) -> list[str | None]:
    """How each worker invocation for the account ended: None, or the error type it raised."""
    return [
        call.error_type
        for call in interpreter.lambdas.calls
        if call.function.endswith(WORKER) and call.payload["account"]["account_id"] == account_id
    ]


def throttle_iam(simulator, account_id: str, until: Callable[[], bool] = lambda: False) -> None:
    """Answer every IAM call in the account with Throttling, until `until()` holds."""

    def throttle(request):
        if request.service == "iam" and request.caller_account == account_id and not until():
            return Fault("Throttling", "Rate exceeded")
        return None

    simulator.faults.rules.append(throttle)


@pytest.fixture
def impatient_workers(monkeypatch):
    """Workers with no time to wait out throttling themselves: the reserve is the whole Timeout, and
    botocore makes one attempt, so a throttled account goes straight back to Step Functions."""
    monkeypatch.setenv("MAX_ATTEMPTS", "1")
    monkeypatch.setenv("PUBLISH_RESERVE_SECONDS", "300")


def statuses(bucket: str, run_id: str) -> dict[str, tuple[str, str | None]]:
    report = read_s3_json(bucket, f"iam-inventory/runs/{DAY}/{run_id}/report.json")
    return {entry["account_id"]: (entry["status"], entry["error_code"]) for entry in report["accounts"]}


def map_run_failures(execution: Execution) -> list[str]:
    return [event["mapRunFailedEventDetails"].get("error") for event in execution.events("MapRunFailed")]


def test_organization_estate_gives_the_same_report_in_single_and_fanout_mode(
    org_env, simulator, monkeypatch, capsys, machine, interpreter
):
    # Given an Organizations estate run once in single mode under its own prefix
    bucket = org_env
    monkeypatch.setenv("REPORT_PREFIX", "single")
    single_summary = handler.lambda_handler({"run_id": "parity"}, FakeContext())
    single = read_s3_json(bucket, f"single/runs/{DAY}/parity/report.json")
    single_csv = boto3.client("s3").get_object(Bucket=bucket, Key=f"single/runs/{DAY}/parity/findings.csv")
    capsys.readouterr()

    # When, once IAM's cached credential reports have expired (so each run generates its own, as a
    # daily schedule does), an execution of the state machine runs the same run
    simulator.clock.advance(REPORT_TTL + timedelta(seconds=1))
    monkeypatch.setenv("REPORT_PREFIX", "fanout")
    execution = machine.run({"run_id": "parity"})

    # Then the fan-out report is the single-mode report, timestamps aside: OU paths and user tags included
    assert execution.status == "SUCCEEDED"
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

    # And the Map Run read the item list and ran the template's defaults: 100 at once, 5 % tolerated
    map_run = execution.map_run()
    assert (map_run["maxConcurrency"], map_run["toleratedFailurePercentage"]) == (100, 5.0)
    assert (map_run["itemCounts"]["total"], map_run["itemCounts"]["succeeded"]) == (4, 4)

    # And each worker got exactly the ItemSelector's payload: one account and Discover's run pointer
    discovered = json.loads(execution.events("TaskSucceeded")[0]["taskSucceededEventDetails"]["output"])
    workers = interpreter.lambdas.payloads(WORKER)
    assert sorted(payload["account"]["account_id"] for payload in workers) == sorted(
        [PROD, DATA, DEV, NO_ROLE]
    )
    assert all(payload["run"] == discovered["Payload"] for payload in workers)
    assert interpreter.lambdas.payloads(FINALIZE) == [{"run": discovered["Payload"], "map_error": None}]
    assert f"fanout/runs/{DAY}/parity/accounts/{PROD}.json.gz" in list_s3_keys(bucket)
    assert interpreter.waits.seconds == []

    # And finalize emitted the same run metrics as single mode
    totals = next(blob for blob in emf_blobs(capsys.readouterr().out) if "AccountsExpected" in blob)
    assert (totals["AccountsExpected"], totals["AccountsScanned"], totals["AccountsFailed"]) == (6, 3, 1)


def test_a_throttled_account_is_retried_with_backoff_and_succeeds(
    org_env, simulator, machine, interpreter, impatient_workers
):
    # Given an account whose IAM throttles until Step Functions has backed off twice
    waits = interpreter.waits
    throttle_iam(simulator, DATA, until=lambda: len(waits.seconds) >= 2)

    # When an execution runs
    execution = machine.run({"run_id": "throttled"})

    # Then its worker raised AccountThrottled twice, was retried after the file's back-off, and succeeded
    assert execution.status == "SUCCEEDED"
    assert worker_calls(interpreter, DATA) == ["AccountThrottled", "AccountThrottled", None]
    first, second = waits.seconds
    assert 0 <= first <= 10  # IntervalSeconds 10, full jitter
    assert 0 <= second <= 20  # then doubled (BackoffRate 2)
    # And the account is scanned like the others; nothing failed in the Map
    assert statuses(org_env, "throttled")[DATA] == ("scanned", None)
    assert execution.map_run()["itemCounts"]["failed"] == 0
    assert execution.output["accounts"]["scanned"] == 3


def test_a_worker_that_keeps_failing_is_tolerated_and_reported_never_missing(
    org_env, simulator, interpreter, impatient_workers
):
    # Given a deployment that tolerates 25 % failed workers, and an account that throttles for good
    machine = deploy({"FanoutToleratedFailurePercentage": "25"})
    throttle_iam(simulator, DATA)

    # When an execution runs
    execution = machine.run({"run_id": "keeps-failing"})

    # Then the worker ran 1 + MaxAttempts (6) times, backing off 10 s doubling up to the 300 s cap
    assert worker_calls(interpreter, DATA) == ["AccountThrottled"] * 7
    caps = [10, 20, 40, 80, 160, 300]
    assert len(interpreter.waits.seconds) == len(caps)
    assert all(0 <= wait <= cap for wait, cap in zip(interpreter.waits.seconds, caps, strict=True))

    # And the Map Run tolerated the one failed item (1 of 4 = 25 %, not more) and went on to Finalize
    map_run = execution.map_run()
    assert map_run["toleratedFailurePercentage"] == 25.0
    assert (map_run["itemCounts"]["failed"], map_run["itemCounts"]["succeeded"]) == (1, 3)
    assert map_run_failures(execution) == []
    assert execution.status == "SUCCEEDED"

    # And finalize reports the account, as not scanned for want of a worker result, never as missing
    assert statuses(org_env, "keeps-failing")[DATA] == ("not_scanned", "NoWorkerResult")
    assert {"account_id": DATA, "error_code": "NoWorkerResult"} in execution.output["failed_accounts"]
    assert execution.output["status"] == "degraded"


def test_too_many_failed_workers_fail_the_map_and_finalize_still_runs_without_moving_latest(
    org_env, simulator, machine, interpreter, impatient_workers
):
    # Given a good baseline run, then an account that throttles for good (1 of 4 items: over 5 %)
    good = machine.run({"run_id": "good", "baseline": True})
    assert good.output["baseline"] is True
    latest = read_s3_json(org_env, "iam-inventory/latest.json")
    throttle_iam(simulator, DATA)

    # When the next baseline run goes through the state machine
    execution = machine.run({"run_id": "bad", "baseline": True})

    # Then the Map Run fails for exceeding the tolerated failures, and the Catch still runs Finalize
    assert map_run_failures(execution) == ["States.ExceedToleratedFailureThreshold"]
    assert execution.events("MapStateFailed")
    assert len(interpreter.lambdas.payloads(FINALIZE)) == 2
    assert execution.status == "SUCCEEDED"

    # And the run is published as failed, with the reason, and latest.json still names the good run
    assert execution.output["status"] == "failed"
    assert "States.ExceedToleratedFailureThreshold" in execution.output["status_reason"]
    assert execution.output["baseline"] is False
    assert statuses(org_env, "bad")[DATA] == ("not_scanned", "NoWorkerResult")
    assert read_s3_json(org_env, "iam-inventory/latest.json") == latest


def test_a_resumed_execution_with_the_same_run_id_scans_only_accounts_not_stored(
    org_env, simulator, machine, interpreter, impatient_workers
):
    # Given an execution whose worker for DEV never stored a scan (throttled past its retries)
    until_fixed = {"fixed": False}
    throttle_iam(simulator, DEV, until=lambda: until_fixed["fixed"])
    first = machine.run({"run_id": "resume"})
    assert statuses(org_env, "resume")[DEV] == ("not_scanned", "NoWorkerResult")
    assert first.output["accounts"]["not_scanned"] == 1

    # When IAM recovers and the execution is started again with the same run id
    until_fixed["fixed"] = True
    assumed = record_assume_role(simulator)
    calls_before = len(interpreter.lambdas.payloads(WORKER))
    second = machine.run({"run_id": "resume"})

    # Then only DEV is handed to a worker and assumed, and the run is now complete
    resumed = interpreter.lambdas.payloads(WORKER)[calls_before:]
    assert [payload["account"]["account_id"] for payload in resumed] == [DEV]
    assert assumed == [DEV]
    assert second.map_run()["itemCounts"]["total"] == 1
    assert second.output["accounts"]["not_scanned"] == 0
    assert second.output["accounts"]["scanned"] == 3
    assert statuses(org_env, "resume")[DEV] == ("scanned", None)

    # And a redriven worker for an account already stored assumes nothing
    assert handler.worker_handler(resumed[0], FakeContext())["status"] == "stored"
    assert len(assumed) == 1


def test_max_concurrency_bounds_the_workers_running_at_once(org_env, interpreter):
    # Given a deployment with FanoutMaxConcurrency 1
    machine = deploy({"FanoutMaxConcurrency": "1"})

    # When an execution runs over the four accounts to scan
    execution = machine.run({"run_id": "one-at-a-time"})

    # Then the Map Run ran them one at a time, and all of them
    assert execution.map_run()["maxConcurrency"] == 1
    assert interpreter.lambdas.peak_running[f"iam-inventory-{WORKER}"] == 1
    assert len(interpreter.lambdas.payloads(WORKER)) == 4
    assert execution.output["accounts"]["scanned"] == 3


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
    # (the simulator logs S3 requests by method and path, so count its PUTs, not an "s3:PutObject")
    assert s3_requests(simulator)["PUT"] == 0
    # And once the entry is fixed, the same step discovers and writes its items
    bad["exceptions"][0]["expires"] = "2027-01-31"
    boto3.client("s3").put_object(Bucket=org_env, Key="config/exceptions.json", Body=json.dumps(bad).encode())
    simulator.faults.operations.clear()
    run = handler.discover_handler({"run_id": "good-exceptions"}, FakeContext())
    assert run["accounts"] > 0
    assert simulator.faults.operations["organizations:ListAccountsForParent"] > 0
    assert s3_requests(simulator)["PUT"] > 0


def test_fanout_finalize_exports_to_each_accounts_security_hub_through_its_import_role(
    org_env, simulator, monkeypatch, machine
):
    # Given Security Hub export, and the import role in prod and dev but not in prod-data
    monkeypatch.setenv("SECURITY_HUB_EXPORT", "true")
    for account_id in (PROD, DEV):
        add_import_role(simulator, account_id)
    # When a baseline run goes through the state machine file
    execution = machine.run({"run_id": "hub", "baseline": True})
    # Then finalize imported prod's and dev's findings into their own Security Hub, and counted prod-data
    assert {f["AwsAccountId"] for f in account_findings(simulator, PROD)} == {PROD}
    assert {f["AwsAccountId"] for f in account_findings(simulator, DEV)} == {DEV}
    assert account_findings(simulator, DATA) == []
    line = execution.output["published"]["securityhub"]
    assert line.startswith(
        f"{len(account_findings(simulator, PROD)) + len(account_findings(simulator, DEV))} imported"
    )
    assert line.endswith("1 accounts refused the import role")


def s3_requests(simulator) -> Counter[str]:
    """S3 requests the simulator answered since the last clear, by what S3 bills: GET, PUT, LIST.

    The simulator logs S3 requests as "METHOD /bucket[/key]"; a GET of the bucket itself is a listing.
    """
    counts: Counter[str] = Counter()
    for operation, count in simulator.faults.operations.items():
        service, _, action = operation.partition(":")
        if service == "s3":
            method, _, path = action.partition(" ")
            counts["LIST" if method == "GET" and path.strip("/").count("/") == 0 else method] += count
    return counts


def metered_run(
    machine: FanoutMachine, simulator, interpreter: Interpreter, run_id: str
) -> tuple[Execution, Counter[str], int]:
    """One execution, the S3 requests it made, and its state transitions as Step Functions bills them:
    each state the execution entered, each child execution the Map started, each worker attempt."""
    simulator.faults.operations.clear()
    calls_before = len(interpreter.lambdas.payloads(WORKER))
    # As the schedule starts it: each run is the next one's baseline.
    execution = machine.run({"run_id": run_id, "baseline": True})
    entered = sum(1 for event in execution.history if event["type"].endswith("StateEntered"))
    attempts = len(interpreter.lambdas.payloads(WORKER)) - calls_before
    transitions = entered + execution.map_run()["itemCounts"]["total"] + attempts
    return execution, s3_requests(simulator), transitions


def test_a_run_meters_what_the_fanout_sizing_doc_assumes(
    org_env, simulator, monkeypatch, machine, interpreter
):
    # Given a static estate with a previous run, as every scheduled run after the first has
    sizing = json.loads((ROOT / "docs/fanout-sizing.json").read_text())["s3_requests"]
    monkeypatch.setenv("ACCOUNT_SOURCE", "static")
    monkeypatch.setenv("ACCOUNT_IDS", f"{PROD},{DATA}")
    machine.run({"run_id": "first", "baseline": True})

    # When a run scans two accounts, and another scans three
    _, two, two_transitions = metered_run(machine, simulator, interpreter, "two")
    monkeypatch.setenv("ACCOUNT_IDS", f"{PROD},{DATA},{DEV}")
    _, three, three_transitions = metered_run(machine, simulator, interpreter, "three")

    # Then each account costs the GETs and PUTs docs/fanout.md prices, and a run the fixed ones besides
    # one PUT per owner file. The new account's report is generated by run three (a daily run's case:
    # its worker reads latest.json and looks for the previous scan of the account); the two others are
    # on the reports run first generated, within 4 hours (cached), so their workers read neither
    assert three["GET"] - two["GET"] == sizing["gets_per_account"]
    assert (
        three["PUT"] - two["PUT"] - owner_files(org_env, "three") + owner_files(org_env, "two")
        == (sizing["puts_per_account"])
    )
    cached = sizing["gets_per_account"] - sizing["cached_report_gets_saved"]
    assert two["GET"] == sizing["fixed_gets"] + 2 * cached
    assert two["PUT"] == sizing["fixed_puts"] + 2 * sizing["puts_per_account"] + owner_files(org_env, "two")
    assert two["LIST"] == three["LIST"] == sizing["fixed_lists"]
    # And the transitions are the doc's formula: 3 + accounts x 2 with no retries
    assert (two_transitions, three_transitions) == (3 + 2 * 2, 3 + 3 * 2)


def owner_files(bucket: str, run_id: str) -> int:
    return sum(1 for key in list_s3_keys(bucket) if f"/{run_id}/owners/" in key)
