"""The time budget through the Lambda handler: a context whose remaining time runs out mid-run."""

from __future__ import annotations

from dataclasses import dataclass

from iam_inventory.entrypoints import handlers as handler
from iam_inventory_cli.invoke_command import FakeLambdaContext as FakeContext
from iam_inventory_sim import DEMO_EXTERNAL_ID, AccountSpec, Fault, KeySpec, SimRequest, UserSpec
from tests.builders import NOW
from tests.integration.conftest import emf_blobs, list_s3_keys, read_s3_json

ACCOUNTS = tuple(
    AccountSpec(f"{n}" * 12, f"spoke-{n}", users=(UserSpec("ops", keys=(KeySpec(10, 1),)),))
    for n in range(1, 6)
)


@dataclass
class DrainingContext:
    """A Lambda context whose clock moves only when the simulator answers an AssumeRole."""

    remaining_ms: int
    seconds_per_assume_role: int = 4
    function_name: str = "iam-inventory-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:iam-inventory-test"
    aws_request_id: str = "5f0c8a3e-1111-2222-3333-444455556666"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms

    def tick(self, request: SimRequest) -> Fault | None:
        if request.action == "AssumeRole":
            self.remaining_ms -= self.seconds_per_assume_role * 1000
        return None


def test_run_stops_starting_accounts_when_time_runs_short_and_still_publishes(
    seed, simulator, report_bucket, monkeypatch, capsys
):
    # Given five accounts, 30 s kept for publishing, a 5 s grace, and one account at a time
    seed(ACCOUNTS)
    for name, value in {
        "ACCOUNT_IDS": ",".join(account.account_id for account in ACCOUNTS),
        "EXTERNAL_ID": DEMO_EXTERNAL_ID,
        "REPORT_BUCKET": report_bucket,
        "WORKERS": "1",
        "PUBLISH_RESERVE_SECONDS": "30",
        "ACCOUNT_GRACE_SECONDS": "5",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(handler, "utcnow", lambda: NOW)
    # And 45 s left in the invocation, 4 s of which every account's AssumeRole uses up
    context = DrainingContext(remaining_ms=45_000)
    simulator.faults.rules.append(context.tick)
    simulator.faults.operations.clear()

    # When the handler runs: budgets left before each start are 15, 11 and 7 s, then 3 s (< grace)
    summary = handler.lambda_handler({"run_id": "budget-run", "baseline": True}, context)

    # Then three accounts were scanned and the last two were never started, but none is missing
    assert summary["accounts"] == {"expected": 5, "scanned": 3, "failed": 0, "skipped": 0, "not_scanned": 2}
    assert simulator.faults.operations["sts:AssumeRole"] == 3

    # And the report was still written, naming the unfinished accounts and why
    assert "iam-inventory/latest.json" in list_s3_keys(report_bucket)
    report = read_s3_json(
        report_bucket,
        read_s3_json(report_bucket, "iam-inventory/latest.json")["folder"].join(
            ("iam-inventory/", "/report.json")
        ),
    )
    statuses = {entry["account_id"]: (entry["status"], entry["error_code"]) for entry in report["accounts"]}
    assert statuses == {
        "111111111111": ("scanned", None),
        "222222222222": ("scanned", None),
        "333333333333": ("scanned", None),
        "444444444444": ("not_scanned", "TimeBudgetExhausted"),
        "555555555555": ("not_scanned", "TimeBudgetExhausted"),
    }

    # And the run's metrics count them
    run_totals = next(blob for blob in emf_blobs(capsys.readouterr().out) if "AccountsNotScanned" in blob)
    assert run_totals["AccountsNotScanned"] == 2
    assert run_totals["AccountsScanned"] == 3


def test_a_run_with_no_time_left_scans_nothing_but_reports_every_account(
    seed, simulator, report_bucket, monkeypatch
):
    # Given an invocation that starts with less time than the publishing reserve
    seed(ACCOUNTS[:2])
    monkeypatch.setenv("ACCOUNT_IDS", ",".join(account.account_id for account in ACCOUNTS[:2]))
    monkeypatch.setenv("EXTERNAL_ID", DEMO_EXTERNAL_ID)
    monkeypatch.setenv("REPORT_BUCKET", report_bucket)
    monkeypatch.setattr(handler, "utcnow", lambda: NOW)
    simulator.faults.operations.clear()

    # When the handler runs
    summary = handler.lambda_handler({"run_id": "late-run"}, FakeContext(remaining_ms=20_000))

    # Then no account was touched, both are reported as not scanned, and the report exists
    assert summary["accounts"]["not_scanned"] == 2
    assert simulator.faults.operations["sts:AssumeRole"] == 0
    assert "report.json" in summary["published"]
