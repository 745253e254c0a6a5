"""`plan`: a staged remediation plan from a report, and its guarded script run against a fake `aws`."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iam_inventory.evaluate.owners import OwnerConfig
from iam_inventory.evaluate.rules import evaluate
from iam_inventory.models import (
    Account,
    AccountResult,
    AccountStatus,
    AttachedPolicy,
    RunContext,
    RunResult,
    Thresholds,
)
from iam_inventory.publish.document import build_report
from iam_inventory_cli.plan import InvalidPlanInput, build_plan
from iam_inventory_cli.plan_document import plan_document
from iam_inventory_cli.plan_script import render_plan_script
from tests.builders import NOW, make_inventory, make_key, make_user

# Built to break out of a shell line, a comment, a command substitution or a quote.
HOSTILE = "x'; touch pwned-1 #$(touch pwned-2)`touch pwned-3`\ntouch pwned-4"
PLANNED_AT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
FAKE_AWS = r"""#!/usr/bin/env bash
# Records every call (arguments joined by \x1f, calls by \x1e) and answers like the AWS CLI would:
# the account of the profile p-<account> (or FAKE_ACCOUNT), FAKE_LAST_USED_<key id> (or None), FAKE_STATUS;
# the other kinds' List calls, the status of the id their --query names: FAKE_STATUS_<id> (empty: not
# listed; unset: FAKE_STATUS).
for arg in "$@"; do printf '%s\x1f' "$arg" >> "$FAKE_LOG"; done
printf '\x1e' >> "$FAKE_LOG"
operation=$2 profile="" key="" query=""
while [[ $# -gt 0 ]]; do
  case "$1" in --profile) profile=$2 ;; --access-key-id) key=$2 ;; --query) query=$2 ;; esac
  shift
done
case "$operation" in
  get-caller-identity) echo "${profile#p-}${FAKE_ACCOUNT:-}" ;;
  get-access-key-last-used) last="FAKE_LAST_USED_$key"; echo "${!last:-None}" ;;
  list-access-keys) echo "${FAKE_STATUS:-Inactive}" ;;
  list-service-specific-credentials|list-ssh-public-keys|list-signing-certificates)
    [[ "$query" =~ ==\'([A-Za-z0-9_]+)\' ]] || exit 9
    status="FAKE_STATUS_${BASH_REMATCH[1]}"; echo "${!status-${FAKE_STATUS:-Inactive}}" ;;
esac
"""


def report_with(
    *users, account_id: str = "111111111111", root_keys: bool = False, root_signing_certificate: bool = False
) -> dict:
    inventory = replace(
        make_inventory(*users, account_id=account_id, root_keys=root_keys),
        root_signing_certificate_active=root_signing_certificate,
    )
    context = RunContext("run-7", NOW, False, Thresholds(), "IAMListRole", "/", "schedule")
    result = RunResult(
        context=context,
        accounts=[
            AccountResult(Account(account_id, "prod", "Root/Workloads"), AccountStatus.SCANNED, inventory)
        ],
        findings=evaluate(inventory, context.thresholds, NOW),
        finished_at=NOW,
    )
    return build_report(result)


def estate_report() -> dict:
    return report_with(
        replace(
            make_user("ci-deployer", keys=(make_key("AKIACI00000000000001", age=200, used=60),)),
            tags={"owner": "team-ci"},
        ),
        replace(
            make_user(HOSTILE, keys=(make_key("AKIAHOSTILE000000001", age=30, used=None),)),
            tags={"owner": "evil"},
        ),
        make_user("old", keys=(make_key("AKIAOLD0000000000001", age=300, used=200, active=False),)),
        make_user("clicker", console=True),
        root_keys=True,
    )


def plan_for(report: dict, **options):
    return build_plan(report, PLANNED_AT, 14, OwnerConfig(), **options)


def test_keys_are_grouped_with_their_findings_and_last_use():
    # Given a report with an old and unused key, a never-used key, an inactive key, an MFA and a root finding
    plan = plan_for(estate_report())
    # Then each key appears once, with every finding behind it and the last use the plan is based on
    assert [
        (k.user_name, k.access_key_id, k.active, k.last_used, k.rule_ids, k.owner) for k in plan.keys
    ] == [
        (
            "ci-deployer",
            "AKIACI00000000000001",
            True,
            "2026-09-24T05:00:00",
            ("access_key_too_old", "access_key_unused"),
            "team-ci",
        ),
        (HOSTILE, "AKIAHOSTILE000000001", True, "never", ("access_key_never_used",), "evil"),
        ("old", "AKIAOLD0000000000001", False, "2026-05-07T05:00:00", ("inactive_access_key",), "unowned"),
    ]
    # and the rest is left to a person, with its text
    assert [(m.rule_id, m.user_name) for m in plan.manual] == [
        ("root_access_key_present", None),
        ("console_user_without_mfa", "clicker"),
    ]
    assert plan.delete_not_before == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def test_filters_by_owner_and_rule():
    report = estate_report()
    assert [k.user_name for k in plan_for(report, owner="team-ci").keys] == ["ci-deployer"]
    assert plan_for(report, owner="team-ci").manual == ()
    by_rule = plan_for(report, rule="inactive_access_key")
    assert ([k.user_name for k in by_rule.keys], by_rule.manual) == (["old"], ())


def test_owner_falls_back_to_the_ou_map_and_prefers_the_reports_owner_field():
    report = estate_report()
    for finding in report["findings"]:
        finding.pop("owner", None)  # a schema 1.2 report: no resolved owner, so the OU map decides
    plan = build_plan(
        report, PLANNED_AT, 14, OwnerConfig(ou_owners={"Root/Workloads": "team-prod"}), owner="team-prod"
    )
    assert [k.user_name for k in plan.keys] == ["old"]
    report["findings"][0]["owner"] = "from-report"  # a 1.3 report carries the owner the run resolved
    first = report["findings"][0]
    assert [m.finding_id for m in plan_for(report, owner="from-report").manual] == [first["finding_id"]]


def test_plan_json_lists_the_staged_steps():
    document = plan_document(plan_for(estate_report(), owner="team-ci"))
    assert document["delete_not_before"] == "2026-12-07T08:00:00Z"
    assert document["keys"][0]["steps"] == [
        {
            "stage": "deactivate",
            "command": "aws iam update-access-key --user-name ci-deployer "
            "--access-key-id AKIACI00000000000001 --status Inactive",
        },
        {
            "stage": "delete",
            "command": "aws iam delete-access-key --user-name ci-deployer "
            "--access-key-id AKIACI00000000000001",
        },
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("access_key_id", "AKIA'$(reboot)", "access_key_id is not an access key id"),
        ("account_id", "1111; reboot", "account_id is not a 12-digit account id"),
    ],
)
def test_malformed_ids_in_the_report_are_refused(field, value, message):
    report = estate_report()
    report["findings"][2][field] = value
    with pytest.raises(InvalidPlanInput, match=message):
        plan_for(report)


# --- the script, run by bash against a fake `aws` on PATH ---------------------------------------


def write_script(tmp_path: Path, plan) -> Path:
    script = tmp_path / "plan.sh"
    script.write_text(render_plan_script(plan))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "aws").write_text(FAKE_AWS)
    (bin_dir / "aws").chmod(0o755)
    return script


def run_script(tmp_path: Path, script: Path, stage: str, **fake: str) -> tuple[int, list[list[str]], str]:
    log = tmp_path / "calls.log"
    log.write_text("")
    env = {
        "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "FAKE_LOG": str(log),
        "FAKE_ACCOUNT": "111111111111",
        **{f"FAKE_{name.upper()}": value for name, value in fake.items()},
    }
    done = subprocess.run(
        ["bash", str(script), stage],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    calls = [call.split("\x1f")[:-1] for call in log.read_text().split("\x1e")[:-1]]
    return done.returncode, calls, done.stderr


def operations(calls: list[list[str]]) -> list[str]:
    return [call[1] for call in calls]


def test_the_script_is_valid_bash_and_refuses_an_unknown_stage(tmp_path):
    script = write_script(tmp_path, plan_for(estate_report()))
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    code, calls, err = run_script(tmp_path, script, "")
    assert (code, calls) == (2, [])
    assert "usage:" in err


def test_stage_one_checks_then_deactivates_and_hostile_names_stay_data(tmp_path):
    # Given the plan for the whole estate, including a user name built to inject commands
    script = write_script(tmp_path, plan_for(estate_report()))
    # When stage 1 runs and no key was used since the report
    code, calls, err = run_script(
        tmp_path, script, "deactivate", last_used_AKIACI00000000000001="2026-09-24T05:00:00+00:00"
    )
    # Then each active key is checked in its account, then deactivated; the inactive key is left alone
    assert code == 0, err
    assert operations(calls) == ["get-caller-identity", "get-access-key-last-used", "update-access-key"] * 2
    assert calls[2] == [
        "iam", "update-access-key", "--user-name", "ci-deployer", "--access-key-id", "AKIACI00000000000001",
        "--status", "Inactive",
    ]  # fmt: skip
    # and the hostile name reached aws as one argument, with nothing of it executed
    assert calls[5][3] == HOSTILE
    assert sorted(path.name for path in tmp_path.glob("pwned*")) == []


def test_stage_one_stops_when_a_key_was_used_after_the_plans_data(tmp_path):
    # Given a key last used 2026-09-24T05:00:00 according to the report
    script = write_script(tmp_path, plan_for(estate_report(), owner="team-ci"))
    # When AWS now reports a later use
    code, calls, err = run_script(
        tmp_path, script, "deactivate", last_used_AKIACI00000000000001="2026-11-30T10:00:00+00:00"
    )
    # Then the script stops before changing anything
    assert code == 1
    assert operations(calls) == ["get-caller-identity", "get-access-key-last-used"]
    assert "key AKIACI00000000000001 was used at 2026-11-30T10:00:00+00:00" in err


def test_a_never_used_key_that_is_now_used_stops_the_script(tmp_path):
    script = write_script(tmp_path, plan_for(estate_report(), owner="evil"))
    code, calls, _ = run_script(
        tmp_path, script, "deactivate", last_used_AKIAHOSTILE000000001="2026-11-24T00:00:00Z"
    )
    assert (code, operations(calls)) == (1, ["get-caller-identity", "get-access-key-last-used"])


def test_wrong_account_credentials_stop_the_script(tmp_path):
    script = write_script(tmp_path, plan_for(estate_report()))
    code, calls, err = run_script(tmp_path, script, "deactivate", account="222222222222")
    assert (code, operations(calls)) == (1, ["get-caller-identity"])
    assert "the credentials are for account 222222222222, not 111111111111" in err


def test_stage_two_waits_for_the_waiting_period(tmp_path):
    # Given a plan made far in the future (so its waiting period has not passed)
    plan = replace(plan_for(estate_report()), created_at=datetime(2999, 1, 1, tzinfo=UTC))
    script = write_script(tmp_path, plan)
    # When stage 2 runs, then it refuses without calling AWS
    code, calls, err = run_script(tmp_path, script, "delete")
    assert (code, calls) == (1, [])
    assert "stage 2 waits until 2999-01-15T00:00:00 UTC" in err


def test_stage_two_deletes_only_inactive_unused_keys(tmp_path):
    # Given a plan whose waiting period is over, with per-account profiles
    plan = replace(plan_for(estate_report(), rule="inactive_access_key", profile_format="p-{account_id}"),
                   created_at=datetime(2020, 1, 1, tzinfo=UTC))  # fmt: skip
    script = write_script(tmp_path, plan)
    # When stage 2 runs and the key is still inactive and unused
    code, calls, err = run_script(tmp_path, script, "delete", account="")
    # Then it checks account, last use and status, then deletes with the account's profile
    assert code == 0, err
    assert operations(calls) == [
        "get-caller-identity",
        "get-access-key-last-used",
        "list-access-keys",
        "delete-access-key",
    ]
    assert calls[3] == [
        "iam", "delete-access-key", "--user-name", "old", "--access-key-id", "AKIAOLD0000000000001",
        "--profile", "p-111111111111",
    ]  # fmt: skip
    # And a key that was re-activated meanwhile is not deleted
    code, calls, err = run_script(tmp_path, script, "delete", account="", status="Active")
    assert (code, operations(calls)[-1]) == (1, "list-access-keys")
    assert "key AKIAOLD0000000000001 is 'Active', not Inactive" in err


QUARANTINE = AttachedPolicy(
    "AWSCompromisedKeyQuarantineV3", "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"
)


def exposed_report() -> dict:
    """A user AWS quarantined for an exposed key (last used 2026-11-20T05:00:00), and an unused key."""
    leaked = replace(
        make_user("leaky", keys=(make_key("AKIALEAKED0000000001", age=200, used=3),)),
        attached_policies=(QUARANTINE,),
    )
    idle = make_user("idle", keys=(make_key("AKIAIDLE000000000001", age=60, used=50),))
    return report_with(leaked, idle)


def test_an_exposed_key_is_marked_and_keeps_all_its_findings():
    plan = plan_for(exposed_report())
    assert [(k.user_name, k.rule_ids, k.exposed) for k in plan.keys] == [
        ("leaky", ("access_key_exposed", "access_key_too_old"), True),
        ("idle", ("access_key_unused",), False),
    ]
    assert [key["exposed"] for key in plan_document(plan)["keys"]] == [True, False]
    assert "# EXPOSED 111111111111 leaky AKIALEAKED0000000001" in render_plan_script(plan)


def test_an_exposed_key_is_deactivated_even_when_used_since_and_its_use_is_printed(tmp_path):
    # Given a plan with an exposed key and an ordinary unused key, both used after the plan's data
    script = write_script(tmp_path, plan_for(exposed_report()))
    # When stage 1 runs
    code, calls, err = run_script(
        tmp_path,
        script,
        "deactivate",
        last_used_AKIALEAKED0000000001="2026-11-30T10:00:00+00:00",
        last_used_AKIAIDLE000000000001="2026-11-30T10:00:00+00:00",
    )
    # Then the exposed key is deactivated all the same (the use may be the attacker's) and the use is
    # printed; the ordinary key's new use still stops the script before it is changed
    assert code == 1
    assert operations(calls) == [
        "get-caller-identity",
        "get-access-key-last-used",
        "update-access-key",
        "get-caller-identity",
        "get-access-key-last-used",
    ]
    assert calls[2][3:6] == ["leaky", "--access-key-id", "AKIALEAKED0000000001"]
    assert (
        "plan: exposed key AKIALEAKED0000000001 last used at 2026-11-30T10:00:00+00:00 "
        "(plan based on 2026-11-20T05:00:00); going ahead"
    ) in err
    assert "key AKIAIDLE000000000001 was used at 2026-11-30T10:00:00+00:00" in err


def test_an_exposed_key_is_deleted_once_inactive_whatever_its_use(tmp_path):
    # Given the waiting period is over
    plan = replace(
        plan_for(exposed_report(), rule="access_key_exposed"), created_at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    script = write_script(tmp_path, plan)
    # When stage 2 runs after a use between the plan and the deactivation
    code, calls, err = run_script(
        tmp_path, script, "delete", last_used_AKIALEAKED0000000001="2026-11-30T10:00:00Z"
    )
    # Then the key is deleted because it is inactive; a re-activated exposed key is still refused
    assert code == 0, err
    assert operations(calls)[-2:] == ["list-access-keys", "delete-access-key"]
    code, calls, err = run_script(tmp_path, script, "delete", status="Active")
    assert (code, operations(calls)[-1]) == (1, "list-access-keys")


def test_manual_steps_are_comments_even_with_a_newline_in_a_name(tmp_path):
    # Given an MFA finding of a user whose name carries a newline and a command
    report = report_with(make_user(HOSTILE, console=True))
    script_text = render_plan_script(plan_for(report))
    # Then every line mentioning the payload is a comment
    lines = [line for line in script_text.splitlines() if "pwned" in line]
    assert lines
    assert all(line.lstrip().startswith("#") for line in lines)


@pytest.mark.parametrize("section", ["accounts", "inventory"])
def test_a_malformed_section_is_refused_with_one_line(section):
    report = estate_report()
    report[section] = [{"no": "account id"}] if section == "accounts" else [{"users": [{"access_keys": [1]}]}]
    with pytest.raises(InvalidPlanInput, match=r"^report accounts or inventory are malformed"):
        plan_for(report)


def test_a_finding_that_is_not_an_object_is_refused():
    report = estate_report()
    report["findings"].append("not a finding")
    with pytest.raises(InvalidPlanInput, match=r"^report finding not a finding: malformed"):
        plan_for(report)
