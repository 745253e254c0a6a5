"""`plan` on the report.json a real run wrote (simulator on loopback), filtered by owner."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta

from iam_inventory_cli import main as cli_main
from iam_inventory_sim import DEMO_EXTERNAL_ID, AccountSpec, KeySpec, UserSpec
from tests.builders import NOW


def test_plan_for_one_owner_from_a_runs_report(simulator, seed, tmp_path, monkeypatch, capsys):
    # Given an account whose users belong to two teams, scanned by `run` at a fixed time
    key_ids = seed(
        (
            AccountSpec(
                "111111111111",
                "prod",
                users=(
                    UserSpec("ci", tags={"owner": "team-a"}, keys=(KeySpec(200, 100),)),
                    UserSpec("web", tags={"owner": "team-b"}, keys=(KeySpec(20, None),)),
                    UserSpec("ops", tags={"owner": "team-a"}, console=True),
                ),
            ),
        )
    )
    monkeypatch.setenv("EXTERNAL_ID", DEMO_EXTERNAL_ID)
    monkeypatch.setattr("iam_inventory_cli.commands.utcnow", lambda: NOW)
    monkeypatch.setattr("iam_inventory_cli.remediation_commands.utcnow", lambda: NOW + timedelta(hours=1))
    assert cli_main.main(["run", "--accounts", "111111111111", "--out", str(tmp_path / "out")]) == 0
    capsys.readouterr()

    # When a plan is written for team-a from that report
    code = cli_main.main(
        [
            "plan",
            "--report",
            str(tmp_path / "out" / "report.json"),
            "--owner",
            "team-a",
            "--out",
            str(tmp_path / "p"),
        ]
    )

    # Then it holds team-a's key (both findings on it, with the last use the run saw) and its MFA step only
    assert code == 0
    plan = json.loads((tmp_path / "p" / "plan.json").read_text())
    ci_key = key_ids[("111111111111", "ci", 0)]
    assert [(k["user_name"], k["access_key_id"], k["rule_ids"], k["owner"]) for k in plan["keys"]] == [
        ("ci", ci_key, ["access_key_too_old", "access_key_unused"], "team-a")
    ]
    last_used = plan["keys"][0]["last_used_known"]
    assert last_used[:10] == (NOW - timedelta(days=100)).date().isoformat()
    assert [(m["rule_id"], m["user_name"], m["owner"]) for m in plan["manual"]] == [
        ("console_user_without_mfa", "ops", "team-a")
    ]
    assert plan["delete_not_before"] == "2026-12-07T07:00:00Z"
    assert subprocess.run(["bash", "-n", str(tmp_path / "p" / "plan.sh")], check=False).returncode == 0
