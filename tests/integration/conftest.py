"""Integration fixtures: one simulator (moto on loopback + fault layer) per session, reset per test."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta

import boto3
import pytest

from iam_inventory.config.events import RunRequest
from iam_inventory.config.settings import Settings
from iam_inventory.models import Account, RunResult
from iam_inventory.pipeline.job import build_run_context
from iam_inventory.pipeline.run import account_plan
from iam_inventory.pipeline.runtime import open_runtime
from iam_inventory.pipeline.scan import scan_account
from iam_inventory_sim import (
    DEMO_EXTERNAL_ID,
    AccountSpec,
    SimRequest,
    Simulator,
    admin_client,
    seed_estate,
)
from iam_inventory_sim.clock import SimClock
from iam_inventory_sim.demo import simulator_environment
from iam_inventory_sim.estate import HUB_ACCOUNT_ID, spoke_trust_policy
from tests.builders import NOW

REPORT_BUCKET = "iam-inventory-test-reports"


class SimulatedWall:
    """The simulator's wall clock: reads NOW when (re)started, then runs at real speed."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.restart()

    def restart(self) -> None:
        """Read `start` again from now on."""
        self.origin = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.origin)


WALL = SimulatedWall(NOW)


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[Simulator]:
    # Simulated AWS time starts at the tests' fixed NOW, the runs' start, in every test: a report IAM
    # generates during a run is dated just after that run's start, whatever the machine's date.
    simulator = Simulator(clock=SimClock(WALL)).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def simulator(simulator_server: Simulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """A clean simulator with the process environment pointing boto3 at it."""
    simulator_server.reset()
    WALL.restart()
    for name, value in simulator_environment(simulator_server.endpoint).items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_LAMBDA_FUNCTION_NAME"):
        monkeypatch.delenv(name, raising=False)
    yield simulator_server
    simulator_server.reset()


@pytest.fixture
def seed(simulator: Simulator, now: datetime) -> Callable[..., dict]:
    """Seed accounts (dated relative to the fixed clock), then enforce trust like real STS."""

    def _seed(accounts: tuple[AccountSpec, ...], external_id: str | None = DEMO_EXTERNAL_ID) -> dict:
        key_ids = seed_estate(simulator.endpoint, accounts, now, external_id=external_id)
        simulator.faults.enforce_trust = True
        return key_ids

    return _seed


@pytest.fixture
def report_bucket(simulator: Simulator) -> str:
    boto3.client("s3").create_bucket(Bucket=REPORT_BUCKET)
    return REPORT_BUCKET


def read_s3_json(bucket: str, key: str) -> dict:
    return json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def read_s3_text(bucket: str, key: str) -> str:
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def list_s3_keys(bucket: str) -> list[str]:
    response = boto3.client("s3").list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in response.get("Contents", []))


def emf_blobs(captured_stdout: str) -> list[dict]:
    """The EMF documents Powertools printed (log lines are JSON too; EMF ones carry `_aws`)."""
    blobs = []
    for line in captured_stdout.splitlines():
        if line.startswith("{"):
            document = json.loads(line)
            if "_aws" in document:
                # Powertools writes each metric as a list of values; one value per run here.
                blobs.append(
                    {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in document.items()}
                )
    return blobs


def comparable_report(report: dict) -> dict:
    """A report without what differs between two runs of the same estate: timestamps and durations."""
    report = json.loads(json.dumps(report))
    report["run"].pop("finished_at")
    for entry in report["accounts"]:
        entry.pop("duration_ms")
        # Each run generates its own credential report, at the simulator's time.
        entry.pop("credential_report_generated_at", None)
    return report


def record_assume_role(simulator: Simulator) -> list[str]:
    """From now on, the account id of every AssumeRole's target (the fault layer only watches)."""
    seen: list[str] = []
    simulator.faults.rules.append(
        lambda request: (
            seen.append(request.params["RoleArn"].split(":")[4]) if request.action == "AssumeRole" else None
        )
    )
    return seen


def record_requests(simulator: Simulator, action: str) -> list[SimRequest]:
    """From now on, every request for `action` (e.g. "ListSSHPublicKeys"); the fault layer only watches."""
    seen: list[SimRequest] = []

    def watch(request: SimRequest) -> None:
        if request.action == action:
            seen.append(request)

    simulator.faults.rules.append(watch)
    return seen


def scan_in_memory(settings: Settings, run_id: str, accounts: Sequence[str]) -> RunResult:
    """Scan `accounts` through the run's own unit of work (scan_account) and hold the scans as one
    in-memory run: for tests of what collection and evaluation produce, without publishing anything."""
    context = build_run_context(RunRequest(run_id=run_id, dry_run=True), settings, NOW, "request-id")
    plan = account_plan(open_runtime(settings), context, None)
    scans = [scan_account(plan, Account(account_id)) for account_id in accounts]
    return RunResult(
        context=context,
        accounts=[scan.result for scan in scans],
        findings=[finding for scan in scans for finding in scan.findings],
        finished_at=NOW,
    )


IMPORT_ROLE = "IAMInventoryFindingsImportRole"


def add_import_role(simulator: Simulator, account_id: str, external_id: str = DEMO_EXTERNAL_ID) -> None:
    """The spoke stack's optional Security Hub import role, trusted like the read role."""
    iam = admin_client(simulator, "iam", account_id)
    trust = spoke_trust_policy(f"arn:aws:iam::{HUB_ACCOUNT_ID}:root", external_id)
    iam.create_role(RoleName=IMPORT_ROLE, AssumeRolePolicyDocument=json.dumps(trust))


def account_findings(simulator: Simulator, account_id: str) -> list[dict]:
    """Security Hub's findings as the account itself reads them back (GetFindings)."""
    return admin_client(simulator, "securityhub", account_id).get_findings(MaxResults=100)["Findings"]
