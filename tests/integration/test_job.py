"""The whole job through the real Lambda handler against the simulator, accounts reached by AssumeRole."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import boto3
import pytest

import iam_inventory.pipeline.job as job
from iam_inventory.config.events import InvalidEvent
from iam_inventory.entrypoints import handlers as handler
from iam_inventory.pipeline.scan_feed import ScanFeed
from iam_inventory.publish.render.rows import FINDINGS_CSV_COLUMNS
from iam_inventory.publish.render.schema import report_schema_errors
from iam_inventory_sim import DEMO_EXTERNAL_ID, AccountSpec, KeySpec, UserSpec, expected_findings
from tests.builders import NOW
from tests.integration.conftest import emf_blobs, list_s3_keys, read_s3_json, read_s3_text

EVENTS = Path(__file__).resolve().parents[2] / "events"
EXTERNAL_ID_PARAMETER = "/iam-inventory/external-id"
# In the run folder: report.json, findings.csv, inventory.csv, history.json, index.html, two JSONL files,
# state.jsonl.gz and one CSV per owner; the commit: two Athena manifests and the runs row; then latest.json.
# Beside them, the run's scan store: its manifest and one stored AccountScan per account (5).
RUN_FILES = 12 + 1 + 5 + 1  # + owners/unowned.csv


def estate() -> tuple[AccountSpec, ...]:
    """Three reachable spokes (one with 130 users: past the 100-per-page default) and two unreachable ones."""
    many = tuple(UserSpec(f"svc-{i:03d}", path="/service/", keys=(KeySpec(10, 1),)) for i in range(130))
    return (
        AccountSpec(
            "111111111111",
            "prod",
            users=(
                *many,
                UserSpec(
                    "old-key",
                    keys=(KeySpec(70, 1), KeySpec(120, 2, expect=frozenset({"access_key_too_old"}))),
                    expect=frozenset({"user_two_active_keys"}),
                ),
            ),
        ),
        AccountSpec(
            "222222222222",
            "dev",
            root_access_key=True,
            users=(
                UserSpec("web", console=True, expect=frozenset({"console_user_without_mfa"})),
                UserSpec("idle", keys=(KeySpec(50, 45, expect=frozenset({"access_key_unused"})),)),
                UserSpec("fresh", keys=(KeySpec(7, None),)),
                UserSpec("ghost", keys=(KeySpec(8, None, expect=frozenset({"access_key_never_used"})),)),
                UserSpec(
                    "off", keys=(KeySpec(30, 3, active=False, expect=frozenset({"inactive_access_key"})),)
                ),
            ),
        ),
        AccountSpec("333333333333", "data", users=(UserSpec("mfa-user", console=True, mfa=True),)),
        AccountSpec("444444444444", "no-role", role="missing"),
        AccountSpec("555555555555", "other-external-id", role="wrong_external_id"),
    )


ALL_IDS = ",".join(account.account_id for account in estate())


@pytest.fixture
def configured(simulator, seed, report_bucket, monkeypatch):
    """The estate seeded, the ExternalId in an SSM SecureString, the handler configured like the template."""
    key_ids = seed(estate())
    boto3.client("ssm").put_parameter(Name=EXTERNAL_ID_PARAMETER, Value=DEMO_EXTERNAL_ID, Type="SecureString")
    monkeypatch.setenv("ACCOUNT_IDS", ALL_IDS)
    monkeypatch.setenv("EXTERNAL_ID_PARAMETER", EXTERNAL_ID_PARAMETER)
    monkeypatch.setenv("REPORT_BUCKET", report_bucket)
    monkeypatch.setenv("WORKERS", "4")
    monkeypatch.setattr(handler, "utcnow", lambda: NOW)
    return key_ids


def invoke(event, lambda_context) -> dict:
    return handler.lambda_handler(event, lambda_context)


def load_event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def test_scheduled_run_writes_report_csv_latest_and_metrics(
    configured, report_bucket, lambda_context, capsys, caplog
):
    # Given the estate and the scheduled event
    # When the handler runs
    summary = invoke(load_event("scheduled.json"), lambda_context)

    # Then every account is accounted for: three scanned, two failed with their error code
    assert summary["run_id"] == "20261123T060000Z-scheduled"
    assert summary["accounts"] == {"expected": 5, "scanned": 3, "failed": 2, "skipped": 0, "not_scanned": 0}
    assert sorted(summary["failed_accounts"], key=lambda a: a["account_id"]) == [
        {"account_id": "444444444444", "error_code": "AccessDenied"},
        {"account_id": "555555555555", "error_code": "AccessDenied"},
    ]

    # And the files land under the deterministic run folder, latest.json pointing at them
    folder = "iam-inventory/runs/dt=2026-11-23/20261123T060000Z-scheduled"
    accounts = ("111111111111", "222222222222", "333333333333", "444444444444", "555555555555")
    assert list_s3_keys(report_bucket) == [
        "iam-inventory/athena/findings/dt=2026-11-23/20261123T060000Z-scheduled.manifest",
        "iam-inventory/athena/inventory/dt=2026-11-23/20261123T060000Z-scheduled.manifest",
        "iam-inventory/athena/runs/dt=2026-11-23/20261123T060000Z-scheduled.json",
        "iam-inventory/latest.json",
        *(f"{folder}/accounts/{account}.json.gz" for account in accounts),
        f"{folder}/findings.csv",
        f"{folder}/findings.jsonl",
        f"{folder}/history.json",
        f"{folder}/index.html",
        f"{folder}/inventory.csv",
        f"{folder}/inventory.jsonl",
        f"{folder}/manifest.json.gz",
        f"{folder}/owners/unowned.csv",  # no user or account of this estate names an owner
        f"{folder}/report.json",
        f"{folder}/state.jsonl.gz",
    ]
    manifest = read_s3_text(
        report_bucket, "iam-inventory/athena/findings/dt=2026-11-23/20261123T060000Z-scheduled.manifest"
    )
    assert manifest == f"s3://{report_bucket}/{folder}/findings.jsonl\n"
    # And a scheduled run that scanned all it could is degraded (two accounts failed) and the baseline
    assert (summary["status"], summary["baseline"]) == ("degraded", True)
    latest = read_s3_json(report_bucket, "iam-inventory/latest.json")
    assert latest["files"]["report.json"] == "runs/dt=2026-11-23/20261123T060000Z-scheduled/report.json"

    # And the report read back from S3 has the inventory and exactly the planted findings
    report = read_s3_json(report_bucket, f"{folder}/report.json")
    assert report["schema_version"] == "1.6"
    assert report_schema_errors(report) == []
    accounts = {entry["account_id"]: entry for entry in report["accounts"]}
    assert accounts["111111111111"]["status"] == "scanned"
    assert accounts["111111111111"]["users"] == 131
    assert accounts["444444444444"]["status"] == "failed"
    assert accounts["444444444444"]["error_code"] == "AccessDenied"
    assert "IAMListRole" in accounts["444444444444"]["error_message"]
    found = {(f["account_id"], f["user_name"], f["access_key_id"], f["rule_id"]) for f in report["findings"]}
    assert found == expected_findings(estate(), configured)

    dev = next(entry for entry in report["inventory"] if entry["account_id"] == "222222222222")
    assert dev["root_access_keys_present"] is True
    ghost = next(user for user in dev["users"] if user["user_name"] == "ghost")
    assert ghost["access_keys"][0]["never_used"] is True
    assert ghost["access_keys"][0]["last_used_at"] is None
    assert ghost["access_keys"][0]["age_days"] == 8
    idle = next(user for user in dev["users"] if user["user_name"] == "idle")
    assert idle["access_keys"][0]["last_used_service"] == "s3"
    web = next(user for user in dev["users"] if user["user_name"] == "web")
    assert (web["console_access"], web["mfa_enabled"]) == (True, False)

    # And the CSV has one row per finding, value for value
    rows = list(csv.DictReader(io.StringIO(read_s3_text(report_bucket, f"{folder}/findings.csv"))))
    assert tuple(rows[0].keys()) == FINDINGS_CSV_COLUMNS
    by_id = {finding["finding_id"]: finding for finding in report["findings"]}
    assert len(rows) == len(by_id)
    for row in rows:
        finding = by_id[row["finding_id"]]
        assert row["rule_id"] == finding["rule_id"]
        assert row["account_id"] == finding["account_id"]
        assert row["user_name"] == (finding["user_name"] or "")
        assert row["access_key_id"] == (finding["access_key_id"] or "")
        assert int(row["measured_value"]) == finding["measured_value"]
        assert int(row["threshold"]) == finding["threshold"]
        assert row["severity"] == finding["severity"]

    # And the EMF metrics carry run totals and one blob per account
    output = capsys.readouterr().out
    blobs = emf_blobs(output)
    totals = next(blob for blob in blobs if "AccountsScanned" in blob)
    assert (totals["AccountsExpected"], totals["AccountsScanned"], totals["AccountsFailed"]) == (5, 3, 2)
    assert totals["Users"] == 131 + 5 + 1
    assert totals["Findings"] == len(found)
    # (per-account AccountId metrics are billed one custom metric each: off unless PER_ACCOUNT_METRICS)
    assert [blob for blob in blobs if "AccountId" in blob] == []
    # And the per-account figures are in the structured log instead, one record per account
    figures = {r.account_id: r for r in caplog.records if r.getMessage() == "account figures"}
    assert set(figures) == {a.account_id for a in estate()}
    assert (figures["444444444444"].scan_failed, figures["444444444444"].status) == (1, "failed")
    assert (figures["111111111111"].users, figures["111111111111"].scan_failed) == (131, 0)
    by_rule = {blob["RuleId"]: blob["FindingsByRule"] for blob in blobs if "RuleId" in blob}
    assert by_rule["access_key_unused"] == 1
    assert by_rule["root_access_key_present"] == 1


def test_retried_event_overwrites_its_own_run(configured, report_bucket, lambda_context):
    invoke(load_event("scheduled.json"), lambda_context)
    invoke(load_event("scheduled.json"), lambda_context)
    assert len(list_s3_keys(report_bucket)) == RUN_FILES


def test_manual_event_scans_only_its_accounts_with_its_thresholds(configured, report_bucket, lambda_context):
    # Given manual.json: accounts 111111111111 and 222222222222, max key age 60, unused window 30
    summary = invoke(load_event("manual.json"), lambda_context)
    # Then only those two accounts are scanned, and the run is published under manual/, not as the baseline
    assert summary["accounts"]["expected"] == 2
    assert summary["run_id"] == "manual-2026-11-23-recheck"
    assert (summary["folder"], summary["baseline"]) == (
        "manual/runs/dt=2026-11-23/manual-2026-11-23-recheck",
        False,
    )
    assert "iam-inventory/latest.json" not in list_s3_keys(report_bucket)
    report = read_s3_json(
        report_bucket, "iam-inventory/manual/runs/dt=2026-11-23/manual-2026-11-23-recheck/report.json"
    )
    assert report["run"]["thresholds"]["max_key_age_days"] == 60
    assert {entry["account_id"] for entry in report["accounts"]} == {"111111111111", "222222222222"}
    # And the 70-day key, fine at 90, is now too old; the 45-day idle key is still unused at 30
    too_old = [f for f in report["findings"] if f["rule_id"] == "access_key_too_old"]
    assert sorted(f["measured_value"] for f in too_old) == [70, 120]
    assert all(f["threshold"] == 60 for f in too_old)


def test_dry_run_event_writes_nothing(configured, report_bucket, lambda_context, capsys):
    summary = invoke(load_event("dry-run.json"), lambda_context)
    assert summary["dry_run"] is True
    assert summary["accounts"]["scanned"] == 3
    assert summary["findings"]["total"] > 0
    assert summary["published"] == {}
    assert list_s3_keys(report_bucket) == []
    assert not [blob for blob in emf_blobs(capsys.readouterr().out) if "AccountsScanned" in blob]


@pytest.mark.parametrize(
    "event",
    [{"accounts": ["1234"]}, {"dry_run": "no"}, {"source": "schedule", "extra": 1}],
)
def test_invalid_event_is_rejected_before_anything_is_written(
    configured, report_bucket, lambda_context, event
):
    with pytest.raises(InvalidEvent):
        invoke(event, lambda_context)
    assert list_s3_keys(report_bucket) == []


def test_role_session_name_carries_the_run_id_and_external_id_is_sent(configured, simulator, lambda_context):
    # Given a fault-layer rule that only records AssumeRole parameters
    seen = []
    simulator.faults.rules.append(
        lambda request: seen.append(request.params) if request.action == "AssumeRole" else None
    )
    # When
    invoke(load_event("scheduled.json"), lambda_context)
    # Then every AssumeRole named the run, asked for 900 s and sent the ExternalId
    assert len(seen) == 5
    assert {params["RoleSessionName"] for params in seen} == {"iam-inventory-20261123T060000Z-scheduled"}
    assert {params["DurationSeconds"] for params in seen} == {"900"}
    assert {params["ExternalId"] for params in seen} == {DEMO_EXTERNAL_ID}


def test_wrong_external_id_fails_the_run_without_replacing_the_last_good_one(
    configured, report_bucket, lambda_context, capsys
):
    # Given a good scheduled run
    invoke(load_event("scheduled.json"), lambda_context)
    good = "runs/dt=2026-11-23/20261123T060000Z-scheduled"
    # When the next day's scheduled run uses a wrong ExternalId, so that every account fails
    boto3.client("ssm").put_parameter(
        Name=EXTERNAL_ID_PARAMETER, Value="not-the-id", Type="SecureString", Overwrite=True
    )
    capsys.readouterr()
    summary = invoke({"source": "schedule", "scheduled_time": "2026-11-24T06:00:00Z"}, lambda_context)
    # Then the run completes as a failed run, listing every account it could not scan
    assert summary["accounts"]["failed"] == 5
    assert (summary["status"], summary["baseline"]) == ("failed", False)
    assert summary["status_reason"] == "no account was scanned (5 failed or not scanned)"
    assert [item["account_id"] for item in summary["failed_accounts"]] == ALL_IDS.split(",")
    # And latest.json still names the good run
    assert read_s3_json(report_bucket, "iam-inventory/latest.json")["folder"] == good
    # And the failed run is published under its own folder, its page opening with a banner that links back
    folder = "iam-inventory/runs/dt=2026-11-23/20261124T060000Z-scheduled"  # started (clock) on the 23rd
    report = read_s3_json(report_bucket, f"{folder}/report.json")
    assert (report["run"]["status"], report["run"]["last_good_run"]["folder"]) == ("failed", good)
    page = read_s3_text(report_bucket, f"{folder}/index.html")
    assert page.index('id="banner-failed"') < page.index("<h1>")
    assert f'href="../../../{good}/index.html"' in page
    # And the RunFailed metric fires, while RunCompleted (the missed-run alarm's metric) does not
    totals = next(blob for blob in emf_blobs(capsys.readouterr().out) if "RunFailed" in blob)
    assert (totals["RunFailed"], "RunCompleted" in totals) == (1.0, False)


def test_a_manual_recheck_does_not_become_the_next_scheduled_runs_baseline(
    configured, report_bucket, lambda_context
):
    # Given a scheduled run, then manual.json (two accounts, stricter thresholds)
    first = invoke(load_event("scheduled.json"), lambda_context)
    manual = invoke(load_event("manual.json"), lambda_context)
    assert manual["folder"].startswith("manual/runs/")
    # When the next scheduled run finds the estate unchanged
    second = invoke({"source": "schedule", "scheduled_time": "2026-11-24T06:00:00Z"}, lambda_context)
    # Then it compares with the previous scheduled run: nothing new, nothing (spuriously) resolved
    assert second["changes"] == {"previous_run_id": first["run_id"], "new": 0, "resolved": 0}
    assert read_s3_json(report_bucket, "iam-inventory/latest.json")["run_id"] == second["run_id"]


def test_per_account_metrics_are_opt_in(configured, lambda_context, monkeypatch, capsys):
    # Given PER_ACCOUNT_METRICS switched on
    monkeypatch.setenv("PER_ACCOUNT_METRICS", "true")
    # When the scheduled event runs
    invoke(load_event("scheduled.json"), lambda_context)
    # Then each account also gets an EMF blob with an AccountId dimension
    per_account = {
        blob["AccountId"]: blob for blob in emf_blobs(capsys.readouterr().out) if "AccountId" in blob
    }
    assert set(per_account) == {a.account_id for a in estate()}
    assert per_account["444444444444"]["ScanFailed"] == 1
    assert per_account["111111111111"]["Users"] == 131


def test_a_run_whose_hand_over_budget_overflows_still_writes_every_account(
    configured, report_bucket, lambda_context, monkeypatch
):
    # Given a hand-over budget of 13 users and findings: dev (12) fits, and the next scan stored beside
    # it does not, so workers may wait for finalize (ScanFeed.admit) and prod (134) is always read back
    monkeypatch.setattr(job, "ScanFeed", lambda pending: ScanFeed(pending, kept_budget=13))
    monkeypatch.setenv("WORKERS", "1")
    # When the scheduled run goes through the handler
    summary = invoke(load_event("scheduled.json"), lambda_context)
    # Then it ends, every account accounted for, with exactly the planted findings
    assert summary["accounts"] == {"expected": 5, "scanned": 3, "failed": 2, "skipped": 0, "not_scanned": 0}
    folder = "iam-inventory/runs/dt=2026-11-23/20261123T060000Z-scheduled"
    report = read_s3_json(report_bucket, f"{folder}/report.json")
    found = {(f["account_id"], f["user_name"], f["access_key_id"], f["rule_id"]) for f in report["findings"]}
    assert found == expected_findings(estate(), configured)
    assert [entry["account_id"] for entry in report["accounts"]] == ALL_IDS.split(",")
