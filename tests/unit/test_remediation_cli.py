"""`iam-inventory exceptions check` and `iam-inventory plan`, through the console script's main()."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from iam_inventory_cli.main import main
from tests.unit.test_plan import estate_report

VALID = {
    "version": 1,
    "exceptions": [
        {
            "id": "a",
            "match": {"rule": "access_key_unused"},
            "owner": "t",
            "reason": "r",
            "expires": "2026-12-31",
        },
        {"id": "b", "match": {"user": "ci-*"}, "owner": "t", "reason": "r", "expires": "2026-11-01"},
    ],
}


def test_check_accepts_a_valid_file(tmp_path, capsys):
    path = tmp_path / "exceptions.json"
    path.write_text(json.dumps(VALID))
    assert main(["exceptions", "check", str(path), "--today", "2026-12-01"]) == 0
    assert capsys.readouterr().out == f"{path}: valid, 2 exceptions (1 expired as of 2026-12-01)\n"


def test_check_prints_one_line_per_problem_and_exits_2(tmp_path, capsys):
    # Given a file with two bad entries
    bad = {"version": 1, "exceptions": [{**VALID["exceptions"][0], "expires": "2028-01-01"}, {"id": "c"}]}
    path = tmp_path / "exceptions.json"
    path.write_text(json.dumps(bad))
    # When checked
    code = main(["exceptions", "check", str(path), "--today", "2026-12-01"])
    # Then the exit code is 2 and each problem is its own line naming the file, entry and field
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"iam-inventory: {path}: exceptions[0] (id 'a'): expires: 2028-01-01 is more than 365 days after "
        "2026-12-01 (latest 2027-12-01)",
        f"iam-inventory: {path}: exceptions[1] (id 'c'): owner: required",
        f"iam-inventory: {path}: exceptions[1] (id 'c'): reason: required",
        f"iam-inventory: {path}: exceptions[1] (id 'c'): expires: required (YYYY-MM-DD)",
        f"iam-inventory: {path}: exceptions[1] (id 'c'): match: required object with at least one "
        "of account, ou_path, user, access_key_id, rule, credential_id",
    ]


def test_check_of_a_missing_file_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["exceptions", "check", str(tmp_path / "nope.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("iam-inventory: cannot read exceptions file ")
    assert err.count("\n") == 1


def test_check_defaults_to_today(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("iam_inventory_cli.remediation_commands.utcnow", lambda: _at(date(2026, 12, 1)))
    path = tmp_path / "e.json"
    path.write_text(json.dumps(VALID))
    assert main(["exceptions", "check", str(path)]) == 0
    assert "(1 expired as of 2026-12-01)" in capsys.readouterr().out


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def test_plan_writes_script_and_json_for_one_owner(tmp_path, capsys, monkeypatch):
    # Given a saved report
    monkeypatch.setattr("iam_inventory_cli.remediation_commands.utcnow", lambda: _at(date(2026, 11, 23)))
    report = tmp_path / "report.json"
    report.write_text(json.dumps(estate_report()))
    # When a plan is written for one owner
    code = main(
        [
            "plan",
            "--report",
            str(report),
            "--owner",
            "team-ci",
            "--wait-days",
            "21",
            "--out",
            str(tmp_path / "p"),
        ]
    )
    # Then both files exist, the script is executable, and the summary counts what it holds
    assert code == 0
    assert capsys.readouterr().out == (
        f"wrote {tmp_path / 'p' / 'plan.sh'} and plan.json: 1 keys and 0 other credentials to deactivate, "
        "1 keys and 0 other credentials to delete after 21 days, 0 manual steps\n"
    )
    document = json.loads((tmp_path / "p" / "plan.json").read_text())
    assert (document["filters"], document["delete_not_before"]) == (
        {"owner": "team-ci", "rule": None},
        "2026-12-14T12:00:00Z",
    )
    assert [key["access_key_id"] for key in document["keys"]] == ["AKIACI00000000000001"]
    assert (tmp_path / "p" / "plan.sh").stat().st_mode & 0o777 == 0o750


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--wait-days", "0"], "iam-inventory: --wait-days must be from 1 to 365\n"),
        (
            ["--profile-format", "audit-{account}"],
            "iam-inventory: --profile-format may only use the placeholder {account_id}\n",
        ),
    ],
)
def test_plan_refuses_bad_flags(tmp_path, capsys, arguments, message):
    report = tmp_path / "report.json"
    report.write_text(json.dumps(estate_report()))
    assert main(["plan", "--report", str(report), "--out", str(tmp_path / "p"), *arguments]) == 2
    assert capsys.readouterr().err == message
    assert not (tmp_path / "p").exists()


def test_plan_refuses_a_file_that_is_not_a_report(tmp_path, capsys):
    report = tmp_path / "report.json"
    report.write_text("{}")
    assert main(["plan", "--report", str(report), "--out", str(tmp_path / "p")]) == 2
    assert "not an iam-inventory report" in capsys.readouterr().err


def test_plan_rejects_an_unknown_rule(tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["plan", "--report", "r.json", "--rule", "nope", "--out", str(tmp_path)])
    assert caught.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err
