"""Legal but unusual IAM data: odd names and paths, 64-character names, key counts, exact boundaries."""

from __future__ import annotations

import csv
import io

import pytest

from iam_inventory.entrypoints import handlers as handler
from iam_inventory_sim import DEMO_EXTERNAL_ID, AccountSpec, KeySpec, UserSpec, expected_findings
from tests.builders import NOW
from tests.integration.conftest import read_s3_text
from tests.integration.faultkit import RUN_DAY, assert_run_invariants, invoke, manual_event, run_report

TOO_OLD = frozenset({"access_key_too_old"})
UNUSED = frozenset({"access_key_unused"})
NEVER_USED = frozenset({"access_key_never_used"})
LONGEST_NAME = "u" * 31 + "+=,.@_-" + "9" * 26  # IAM's maximum user name length: 64
assert len(LONGEST_NAME) == 64

# Default thresholds: key age > 90 is too old, last use >= 45 days is unused, never used after > 7 days.
ODD_USERS = (
    UserSpec("a+b=c,d.e@f_g-h", keys=(KeySpec(10, 1),)),
    UserSpec("=1+2", console=True, expect=frozenset({"console_user_without_mfa"})),  # a formula, if unescaped
    UserSpec("@ops", path="/division.a/team_b/sub-c/", keys=(KeySpec(10, 1),)),
    UserSpec("-dash", path="/x/"),
    UserSpec(LONGEST_NAME, path="/p@th+=,./", keys=(KeySpec(5, 0),)),
    UserSpec("no-keys"),
    UserSpec("two-keys", keys=(KeySpec(30, 2), KeySpec(31, 3)), expect=frozenset({"user_two_active_keys"})),
    UserSpec("age-exactly-90", keys=(KeySpec(90, 1),)),
    UserSpec("age-91", keys=(KeySpec(91, 1, expect=TOO_OLD),)),
    UserSpec("idle-exactly-45", keys=(KeySpec(60, 45, expect=UNUSED),)),
    UserSpec("idle-44", keys=(KeySpec(60, 44),)),
    UserSpec("never-used-exactly-7", keys=(KeySpec(7, None),)),
    UserSpec("never-used-8", keys=(KeySpec(8, None, expect=NEVER_USED),)),
    UserSpec("never-used-today", keys=(KeySpec(0, None),)),
    UserSpec(
        "one-active-one-inactive",
        keys=(KeySpec(20, 1), KeySpec(100, None, active=False, expect=frozenset({"inactive_access_key"}))),
    ),
)
ESTATE = (AccountSpec("111111111111", "odd", users=ODD_USERS),)


@pytest.fixture
def run(simulator, seed, report_bucket, monkeypatch, lambda_context):
    key_ids = seed(ESTATE)
    monkeypatch.setenv("EXTERNAL_ID", DEMO_EXTERNAL_ID)
    monkeypatch.setenv("REPORT_BUCKET", report_bucket)
    monkeypatch.setattr(handler, "utcnow", lambda: NOW)
    invoke(manual_event("odd", ["111111111111"]), lambda_context)
    return key_ids, run_report(report_bucket, "odd")


def test_unusual_names_and_paths_are_inventoried_verbatim(run):
    # Given users with every legal special character, deep paths and a 64-character name
    _, report = run
    # Then each one is in the report exactly as IAM holds it, and the report is valid
    assert_run_invariants(report, ["111111111111"])
    users = {user["user_name"]: user for user in report["inventory"][0]["users"]}
    assert set(users) == {spec.name for spec in ODD_USERS}
    for spec in ODD_USERS:
        assert users[spec.name]["path"] == spec.path
        assert users[spec.name]["arn"] == f"arn:aws:iam::111111111111:user{spec.path}{spec.name}"
        assert len(users[spec.name]["access_keys"]) == len(spec.keys)


def test_threshold_boundaries_give_exactly_the_planted_findings(run):
    # Given keys exactly at and one day past every threshold
    key_ids, report = run
    # Then the findings are exactly the planted ones: "at the limit" passes for age and grace, fails for idle
    found = {(f["account_id"], f["user_name"], f["access_key_id"], f["rule_id"]) for f in report["findings"]}
    assert found == expected_findings(ESTATE, key_ids)
    keys = {user["user_name"]: user["access_keys"] for user in report["inventory"][0]["users"]}
    assert keys["age-exactly-90"][0]["age_days"] == 90
    assert keys["never-used-exactly-7"][0]["never_used"] is True
    assert keys["never-used-today"][0]["age_days"] == 0
    assert keys["no-keys"] == []


def test_names_that_look_like_formulas_are_escaped_in_the_csv(run, report_bucket):
    # Given a user named "=1+2" with a finding
    # Then the CSV cell starts with a quote, so a spreadsheet shows it as text
    text = read_s3_text(report_bucket, f"iam-inventory/manual/runs/dt={RUN_DAY}/odd/findings.csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert "'=1+2" in {row["user_name"] for row in rows}
    assert not any(row["user_name"].startswith(("=", "+", "@", "-")) for row in rows)
    # And the JSON report keeps the real name
    assert "=1+2" in {f["user_name"] for f in run[1]["findings"]}
