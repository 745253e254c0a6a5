"""Resume: a run interrupted after some accounts were stored, run again with the same run id."""

from __future__ import annotations

import argparse
import io
import json
import os
from datetime import timedelta
from pathlib import Path

import botocore.retries.standard
import pytest
from botocore.exceptions import ClientError

from iam_inventory.config.events import RunRequest
from iam_inventory.entrypoints import handlers as handler
from iam_inventory.entrypoints.bootstrap import bootstrap
from iam_inventory.pipeline.finalize import Outputs
from iam_inventory.pipeline.job import run_job
from iam_inventory_cli import invoke_command as cli
from iam_inventory_cli import tables
from iam_inventory_cli.invoke_command import FakeLambdaContext
from iam_inventory_sim import DEMO_EXTERNAL_ID, AccountSpec, Fault, KeySpec, SimRequest, UserSpec
from iam_inventory_sim.credential_report import REPORT_TTL
from tests.builders import NOW
from tests.integration.conftest import comparable_report, list_s3_keys, read_s3_json, record_assume_role

ACCOUNTS = ("111111111111", "222222222222", "333333333333", "444444444444")
ESTATE = (
    AccountSpec(
        "111111111111", "prod", users=(UserSpec("alice", keys=(KeySpec(200, 1),), tags={"owner": "a"}),)
    ),
    AccountSpec("222222222222", "dev", users=(UserSpec("bob", console=True),)),
    AccountSpec("333333333333", "data", users=(UserSpec("carol", keys=(KeySpec(60, 50),)),)),
    AccountSpec("444444444444", "gone", role="missing"),
)
FOLDER = "runs/dt=2026-11-23/resume"


@pytest.fixture
def configured(simulator, seed, report_bucket, monkeypatch):
    seed(ESTATE)
    for name, value in {
        "ACCOUNT_IDS": ",".join(ACCOUNTS),
        "EXTERNAL_ID": DEMO_EXTERNAL_ID,
        "REPORT_BUCKET": report_bucket,
        # One account at a time, so "interrupted after two accounts" is one well-defined moment.
        "WORKERS": "1",
        "RETRY_MODE": "standard",
        "MAX_ATTEMPTS": "2",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0.0)
    monkeypatch.setattr(handler, "utcnow", lambda: NOW)
    return report_bucket


def test_an_interrupted_run_resumed_with_its_run_id_equals_an_uninterrupted_one(
    configured, simulator, lambda_context, monkeypatch
):
    # Given the run uninterrupted, under its own prefix, as the reference
    bucket = configured
    monkeypatch.setenv("REPORT_PREFIX", "reference")
    handler.lambda_handler({"source": "manual", "run_id": "resume"}, lambda_context)
    reference = read_s3_json(bucket, f"reference/{FOLDER}/report.json")
    # (each attempt below starts after IAM's 4-hour report cache expired, so every attempt generates
    # its own credential reports, as the reference did: verification calls are compared like for like)
    simulator.clock.advance(REPORT_TTL + timedelta(seconds=1))

    # And the same run killed once two accounts are stored: storing the third one fails for good
    monkeypatch.setenv("REPORT_PREFIX", "iam-inventory")

    def kill_at_third(request: SimRequest) -> Fault | None:
        if (
            request.service == "s3"
            and request.action.startswith("PUT ")
            and request.action.endswith(f"accounts/{ACCOUNTS[2]}.json.gz")
        ):
            return Fault("InternalError", "We encountered an internal error.", status=500, sender=False)
        return None

    simulator.faults.rules.append(kill_at_third)
    with pytest.raises(ClientError):
        handler.lambda_handler({"source": "manual", "run_id": "resume"}, lambda_context)
    stored = [key for key in list_s3_keys(bucket) if key.startswith(f"iam-inventory/{FOLDER}/accounts/")]
    assert stored == [f"iam-inventory/{FOLDER}/accounts/{account}.json.gz" for account in ACCOUNTS[:2]]
    assert f"iam-inventory/{FOLDER}/report.json" not in list_s3_keys(bucket)

    # When the fault is gone and the run is invoked again with the same run id
    simulator.faults.rules.remove(kill_at_third)
    simulator.clock.advance(REPORT_TTL + timedelta(seconds=1))
    assumed = record_assume_role(simulator)
    summary = handler.lambda_handler({"source": "manual", "run_id": "resume"}, lambda_context)

    # Then only the accounts not stored were assumed, and the report equals the uninterrupted one
    assert assumed == list(ACCOUNTS[2:])
    resumed = read_s3_json(bucket, f"iam-inventory/{FOLDER}/report.json")
    assert comparable_report(resumed) == comparable_report(reference)
    assert summary["accounts"] == {"expected": 4, "scanned": 3, "failed": 1, "skipped": 0, "not_scanned": 0}


def test_the_local_store_keeps_the_same_layout_under_out_and_resumes_too(
    configured, simulator, tmp_path: Path
):
    # Given a local run (no bucket) writing to --out
    runtime = bootstrap(local_env(), local_dir=tmp_path)
    first = run_job(RunRequest(source="manual", run_id="resume"), runtime, lambda: NOW, "r", Outputs())
    first_report = json.loads((tmp_path / "report.json").read_text())

    # Then every account's scan is stored under <out>/runs/dt=.../<run_id>/accounts/
    stored = sorted(path.name for path in (tmp_path / FOLDER / "accounts").iterdir())
    assert stored == [f"{account}.json.gz" for account in ACCOUNTS]
    assert (tmp_path / FOLDER / "manifest.json.gz").is_file()

    # When the same run id is run again
    assumed = record_assume_role(simulator)
    again = run_job(
        RunRequest(source="manual", run_id="resume"),
        bootstrap(local_env(), local_dir=tmp_path),
        lambda: NOW,
        "r",
        Outputs(),
    )

    # Then nothing is assumed again and the result is the same
    assert assumed == []
    assert again.report["accounts"] == first.report["accounts"]
    assert json.loads((tmp_path / "report.json").read_text())["findings"] == first_report["findings"]


def test_invoke_exits_1_when_accounts_were_not_scanned(configured, monkeypatch, tmp_path: Path):
    # Given a Lambda context with no time left: every account ends not_scanned, none failed
    monkeypatch.setattr(cli, "FakeLambdaContext", lambda **kw: lambda_context_with(remaining_ms=1_000, **kw))
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"source": "manual", "accounts": list(ACCOUNTS[:2])}))
    out = io.StringIO()

    # When `iam-inventory invoke` runs it
    code = cli.command_invoke(argparse.Namespace(event=event, simulator=False), out, io.StringIO())

    # Then it exits 1 like `run` does
    summary = json.loads(out.getvalue())
    assert (summary["accounts"]["not_scanned"], summary["accounts"]["failed"]) == (2, 0)
    assert code == tables.EXIT_ACCOUNT_FAILED
    assert tables.exit_code(summary["accounts"]) == tables.EXIT_ACCOUNT_FAILED


def local_env() -> dict[str, str]:
    """The configured environment without a bucket: the CLI's `run --out` on a laptop."""
    return {name: value for name, value in os.environ.items() if name != "REPORT_BUCKET"}


def lambda_context_with(**fields: object) -> FakeLambdaContext:
    return FakeLambdaContext(**fields)
