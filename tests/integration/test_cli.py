"""The CLI: `demo` end to end, `invoke` with every sample event, `run` with flags."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from iam_inventory.config.settings import Settings
from iam_inventory.entrypoints import bootstrap
from iam_inventory.publish.render.schema import report_schema_errors
from iam_inventory_cli import invoke_command as cli
from iam_inventory_cli import main as cli_main
from iam_inventory_cli import tables
from iam_inventory_cli.demo_plan import write_demo_plan
from iam_inventory_cli.simulated import SIMULATED_ACCOUNTS
from iam_inventory_cli.tables import print_summary
from iam_inventory_sim import DEMO_EXTERNAL_ID, AccountSpec, KeySpec, UserSpec
from iam_inventory_sim.demo import run_demo
from tests.integration.conftest import list_s3_keys

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_demo_leaves_report_and_csv_matching_the_seeded_estate(simulator_server, tmp_path, monkeypatch):
    # Given a clean simulator (the demo starts its own; the shared one just must not interfere)
    out = io.StringIO()
    # When
    code = run_demo(tmp_path, out, print_summary, write_demo_plan)
    # Then the demo checked its findings against the seeded estate and wrote the files
    text = out.getvalue()
    assert code == 0, text
    assert "match exactly what the estate was seeded with" in text
    # And the member whose root credentials were removed centrally says so, with no root finding
    assert "333333333333 (data-analytics) had its root credentials removed centrally" in text
    report = json.loads((tmp_path / "report.json").read_text())
    assert report_schema_errors(report) == []
    assert "each of the organization's 6 accounts is reported exactly once" in text
    assert report["summary"]["accounts"] == {
        "expected": 6,
        "scanned": 3,
        "failed": 1,
        "skipped": 2,
        "not_scanned": 0,
    }
    # And the accounts came from Organizations: OU paths, the hub and the suspended account skipped
    accounts = {entry["account_id"]: entry for entry in report["accounts"]}
    assert accounts["333333333333"]["ou_path"] == "Root/Workloads/Prod/Data"
    assert (accounts["555555555555"]["status"], accounts["555555555555"]["error_code"]) == (
        "skipped",
        "AccountNotActive",
    )
    assert (accounts["123456789012"]["status"], accounts["123456789012"]["error_code"]) == (
        "skipped",
        "HubAccount",
    )
    assert (accounts["444444444444"]["status"], accounts["444444444444"]["error_code"]) == (
        "failed",
        "AccessDenied",
    )
    rows = list(csv.DictReader(io.StringIO((tmp_path / "findings.csv").read_text())))
    # report.json is the third run's: 13 seeded findings on access keys, passwords and root, and 9 on the
    # other credentials (one per rule); 2 fixed and 1 new in run 2, none since; one of the 21 is
    # suppressed by an exception (a flagged row in findings.csv, not counted)
    assert len(rows) == report["summary"]["findings"]["total"] + 1 == 12 + 9
    assert [row["suppressed_by"] for row in rows if row["suppressed_by"]] == ["erin-onboarding"]
    assert (tmp_path / "metrics.emf.jsonl").read_text().count('"AccountsScanned":[3.0]') == 3
    assert (tmp_path / "metrics.emf.jsonl").read_text().count('"AccountsSkipped":[2.0]') == 3
    assert "444444444444" in text
    # And run 2, on cached reports, verified its candidates live and reported exactly the demo's changes
    assert "the run reports exactly the 1 new and 2 resolved findings" in text
    assert "so run 2 confirmed its report-based candidates live" in text
    # And run 3, after the simulator clock aged the reports past 4 hours, regenerated them, verified nothing
    assert "the simulator clock moves 4:01:00 ahead; the cached reports expire" in text
    assert "run 3 generated new reports (STARTED), paid no verification calls" in text
    assert [entry["verification_calls"] for entry in report["accounts"] if entry["status"] == "scanned"] == [
        0
    ] * 3
    assert (report["changes"]["new"], report["changes"]["resolved"]) == (0, 0)
    assert report["changes"]["previous_run_id"].endswith("-2")
    # And every format is in the output directory
    for name in (
        "inventory.csv",
        "index.html",
        "history.json",
        "findings.jsonl",
        "inventory.jsonl",
        "latest.json",
    ):
        assert (tmp_path / name).is_file(), name
    assert len(json.loads((tmp_path / "history.json").read_text())["runs"]) == 3
    # And the issue-12 checks: exceptions (active, expired, stale), owners, privilege, overdue, a plan
    for line in (
        "Check: active exception erin-onboarding suppresses 1 finding(s), listed apart",
        "Check: expired exception grace-archive turned grace's finding back on (exception_expired)",
        "Check: stale exception(s) reported: departed-contractors",
        "Check: owners from every source: account_tag: team-payments (carol); none: unowned (ivan); "
        "ou_map: team-sandbox (root); user_tag: heidi@example.com (heidi)",
        "Check: privileged key raised: heidi's access_key_too_old medium -> high",
        "Check: privileged key raised to critical: legacy-ci's access_key_exposed high -> critical "
        "(AdministratorAccess attached directly)",
    ):
        assert line in text
    # And the demo says which credentials planted beside access keys it found, and that every rule on
    # them fired; the SSH key of the user without CodeCommit was not read, and it says why
    assert "Check: every planted credential was found by the rules it was planted for" in text
    assert (
        "found: root signing certificate in 111111111111 (prod-payments): root_signing_certificate_active"
        in text
    )
    assert "not read, as designed: SSH public key" in text
    assert "ops-laptop" in text
    assert text.count("  found: ") == 9
    assert "Check FAILED" not in text
    # (and the demo's variables are gone once it is done: the next test's settings are its own)
    assert "EXCEPTIONS_S3_URI" not in os.environ
    assert "OU_OWNERS" not in os.environ
    aged = json.loads((tmp_path / "aged" / "report.json").read_text())
    overdue = {(f["user_name"], f["rule_id"]) for f in aged["findings"] if f["overdue"]}
    assert ("heidi", "console_user_without_mfa") in overdue
    # (the exposed admin key, critical since run 1, is 33 days past its 7-day SLA)
    assert ("legacy-ci", "access_key_exposed") in overdue
    plan = json.loads((tmp_path / "plans" / "team-sandbox" / "plan.json").read_text())
    assert plan["filters"]["owner"] == "team-sandbox"
    assert (tmp_path / "plans" / "team-sandbox" / "plan.sh").is_file()


@pytest.mark.parametrize("path", sorted(EVENTS.glob("*.json")), ids=lambda p: p.name)
def test_invoke_runs_the_handler_with_every_sample_event(simulator, seed, report_bucket, monkeypatch, path):
    # Given the accounts the sample events name, and a configuration like the deployed one
    seed(
        (
            AccountSpec("111111111111", "a", users=(UserSpec("u1", keys=(KeySpec(100, 1),)),)),
            AccountSpec("222222222222", "b", users=(UserSpec("u2", console=True),)),
        )
    )
    monkeypatch.setenv("ACCOUNT_IDS", "111111111111,222222222222")
    monkeypatch.setenv("EXTERNAL_ID", DEMO_EXTERNAL_ID)
    monkeypatch.setenv("REPORT_BUCKET", report_bucket)
    out = io.StringIO()
    # When
    code = cli.command_invoke(cli_main.build_parser().parse_args(["invoke", str(path)]), out, io.StringIO())
    # Then the handler's summary (alone) is printed and both accounts were scanned
    summary = json.loads(out.getvalue())
    assert code == tables.EXIT_OK
    assert summary["accounts"]["scanned"] == 2
    assert summary["findings"]["by_rule"]["access_key_too_old"] == 1
    assert summary["findings"]["by_rule"]["console_user_without_mfa"] == 1
    dry_run = path.name == "dry-run.json"
    assert summary["dry_run"] is dry_run
    assert bool(list_s3_keys(report_bucket)) is not dry_run


def test_invoke_reads_the_settings_once_for_its_preflight_and_the_handler(
    simulator, seed, report_bucket, monkeypatch
):
    # Given a configured estate, and a count of every time the settings are read from the environment
    seed((AccountSpec("111111111111", "a", users=(UserSpec("u1"),)),))
    monkeypatch.setenv("ACCOUNT_IDS", "111111111111")
    monkeypatch.setenv("EXTERNAL_ID", DEMO_EXTERNAL_ID)
    monkeypatch.setenv("REPORT_BUCKET", report_bucket)
    monkeypatch.setattr(bootstrap._Container, "runtime", None)
    reads: list[int] = []
    original = Settings.from_env.__func__  # type: ignore[attr-defined]

    def counting(cls, environ):
        reads.append(1)
        return original(cls, environ)

    monkeypatch.setattr(Settings, "from_env", classmethod(counting))
    event = EVENTS / "scheduled.json"
    # When the CLI checks the hub's credentials, then runs the handler with the event
    code = cli.command_invoke(
        cli_main.build_parser().parse_args(["invoke", str(event)]), io.StringIO(), io.StringIO()
    )
    # Then one runtime served both: the settings were validated once
    assert code == tables.EXIT_OK
    assert len(reads) == 1


@pytest.mark.parametrize("path", sorted(EVENTS.glob("*.json")), ids=lambda p: p.name)
def test_invoke_simulator_runs_every_sample_event_with_only_the_result_on_stdout(simulator, path, capsys):
    # When a sample event is invoked against the embedded simulator (no AWS, no configuration)
    code = cli_main.main(["invoke", "--simulator", str(path)])
    # Then stdout is exactly one JSON document: the handler's summary of the seeded accounts
    out, err = capsys.readouterr()
    summary = json.loads(out)
    event = json.loads(path.read_text())
    expected = len(event.get("accounts", SIMULATED_ACCOUNTS))
    assert code == tables.EXIT_OK
    assert summary["accounts"] == {
        "expected": expected,
        "scanned": expected,
        "failed": 0,
        "skipped": 0,
        "not_scanned": 0,
    }
    assert summary["dry_run"] is bool(event.get("dry_run"))
    assert summary["findings"]["by_rule"]["console_user_without_mfa"] >= 1
    # and the logs and the metrics (EMF) went to stderr, without warnings or tracebacks
    assert "Warning" not in err
    assert "Traceback" not in err
    emf = [json.loads(line) for line in err.splitlines() if line.startswith('{"_aws"')]
    assert bool(emf) is not summary["dry_run"]


def test_run_command_writes_to_out_and_exits_1_when_an_account_fails(
    simulator, seed, tmp_path, monkeypatch, capsys
):
    seed((AccountSpec("111111111111", "a"), AccountSpec("444444444444", "gone", role="missing")))
    monkeypatch.setenv("EXTERNAL_ID", DEMO_EXTERNAL_ID)
    code = cli_main.main(
        ["run", "--accounts", "111111111111,444444444444", "--out", str(tmp_path), "--format", "json"]
    )
    assert code == tables.EXIT_ACCOUNT_FAILED
    report = json.loads((tmp_path / "report.json").read_text())
    assert [entry["status"] for entry in report["accounts"]] == ["scanned", "failed"]


def test_run_command_rejects_bad_account_ids_with_exit_2(simulator, capsys):
    code = cli_main.main(["run", "--accounts", "12345", "--dry-run"])
    assert code == tables.EXIT_BAD_INPUT
    assert capsys.readouterr().err == "iam-inventory: --accounts: not a 12-digit AWS account ID: '12345'\n"
