"""Rules: pure functions of inventory, thresholds and now; boundaries pinned day by day."""

from __future__ import annotations

from dataclasses import replace

import pytest

from iam_inventory.evaluate.cis import CIS_BENCHMARK, CIS_MAPPINGS
from iam_inventory.evaluate.rules import RULE_IDS, RULES, evaluate, finding_id
from iam_inventory.models import Severity, Thresholds
from tests.builders import NOW, days_ago, make_inventory, make_key, make_user

THRESHOLDS = Thresholds(max_key_age_days=90, unused_key_days=45, never_used_grace_days=7)


def rules_found(inventory, thresholds=THRESHOLDS) -> list[str]:
    return [finding.rule_id for finding in evaluate(inventory, thresholds, NOW)]


@pytest.mark.parametrize(
    ("age", "expected"),
    [(89, []), (90, []), (91, ["access_key_too_old"]), (400, ["access_key_too_old"])],
)
def test_key_age_finding_starts_the_day_after_the_maximum(age, expected):
    # Given an active key of `age` days, used yesterday
    inventory = make_inventory(make_user(keys=(make_key(age=age, used=1),)))
    # When / Then: 90 days is "rotated every 90 days or less" (CIS 1.14), 91 is not
    assert rules_found(inventory) == expected


@pytest.mark.parametrize(
    ("idle", "expected"), [(0, []), (44, []), (45, ["access_key_unused"]), (46, ["access_key_unused"])]
)
def test_unused_key_finding_starts_at_the_window(idle, expected):
    # Given a 60-day-old active key last used `idle` days ago
    inventory = make_inventory(make_user(keys=(make_key(age=60, used=idle),)))
    # Then: CIS 1.12 says "unused for 45 days or greater"
    assert rules_found(inventory) == expected


@pytest.mark.parametrize(("age", "expected"), [(0, []), (7, []), (8, ["access_key_never_used"])])
def test_never_used_key_gets_a_grace_period(age, expected):
    # Given an active key that was never used
    inventory = make_inventory(make_user(keys=(make_key(age=age, used=None),)))
    # Then it is reported only once older than the grace period, and never as "unused"
    assert rules_found(inventory) == expected


def test_old_never_used_key_is_both_too_old_and_never_used():
    inventory = make_inventory(make_user(keys=(make_key(age=200, used=None),)))
    assert rules_found(inventory) == ["access_key_too_old", "access_key_never_used"]


def test_two_active_keys_is_one_user_level_finding():
    # Given a user with two active keys and another with one active and one inactive
    two = make_user("two", keys=(make_key("AKIA1", age=10), make_key("AKIA2", age=20)))
    mixed = make_user("mixed", keys=(make_key("AKIA3", age=10), make_key("AKIA4", age=20, active=False)))
    # When
    findings = evaluate(make_inventory(two, mixed), THRESHOLDS, NOW)
    # Then only "two" has the two-keys finding, measured 2 against threshold 1
    two_keys = [f for f in findings if f.rule_id == "user_two_active_keys"]
    assert [(f.user_name, f.access_key_id, f.measured_value, f.threshold) for f in two_keys] == [
        ("two", None, 2, 1)
    ]


def test_inactive_key_is_reported_and_not_judged_on_age_or_use():
    inventory = make_inventory(make_user(keys=(make_key("AKIAOLD", age=300, used=200, active=False),)))
    findings = evaluate(inventory, THRESHOLDS, NOW)
    assert [(f.rule_id, f.access_key_id, f.measured_value, f.severity) for f in findings] == [
        ("inactive_access_key", "AKIAOLD", 300, Severity.LOW)
    ]


@pytest.mark.parametrize(
    ("console", "mfa", "expected"), [(True, False, True), (True, True, False), (False, False, False)]
)
def test_console_user_without_mfa(console, mfa, expected):
    inventory = make_inventory(make_user(console=console, mfa=mfa))
    assert ("console_user_without_mfa" in rules_found(inventory)) is expected


def test_root_access_key_is_critical_and_maps_to_cis_1_4():
    findings = evaluate(make_inventory(root_keys=True), THRESHOLDS, NOW)
    assert [(f.rule_id, f.severity, f.cis_control, f.user_name) for f in findings] == [
        ("root_access_key_present", Severity.CRITICAL, "1.4", None)
    ]


def test_finding_carries_account_user_key_measure_and_threshold():
    inventory = make_inventory(
        make_user("bob", keys=(make_key("AKIABOB", age=120, used=2),)), account_id="222222222222"
    )
    (finding,) = evaluate(inventory, Thresholds(max_key_age_days=100), NOW)
    assert finding.account_id == "222222222222"
    assert finding.user_name == "bob"
    assert finding.access_key_id == "AKIABOB"
    assert (finding.measured_value, finding.threshold, finding.unit) == (120, 100, "days")
    assert finding.cis_control == "1.14"
    assert finding.severity is Severity.MEDIUM


def test_thresholds_are_configurable():
    inventory = make_inventory(make_user(keys=(make_key(age=31, used=1),)))
    assert rules_found(
        inventory, Thresholds(max_key_age_days=30, unused_key_days=45, never_used_grace_days=7)
    ) == ["access_key_too_old"]


def test_clean_user_has_no_findings():
    inventory = make_inventory(make_user(console=True, mfa=True, keys=(make_key(age=10, used=0),)))
    assert rules_found(inventory) == []


def test_finding_ids_are_stable_and_distinct():
    assert finding_id("111111111111", "bob", "AKIA1", "access_key_too_old") == finding_id(
        "111111111111", "bob", "AKIA1", "access_key_too_old"
    )
    ids = {finding_id("111111111111", "bob", "AKIA1", rule) for rule in RULE_IDS}
    ids.add(finding_id("222222222222", "bob", "AKIA1", "access_key_too_old"))
    assert len(ids) == len(RULE_IDS) + 1


def test_evaluation_does_not_depend_on_the_wall_clock():
    inventory = make_inventory(make_user(keys=(make_key(age=95, used=50),)))
    first = evaluate(inventory, THRESHOLDS, NOW)
    assert first == evaluate(inventory, THRESHOLDS, NOW)


@pytest.mark.parametrize(("root_mfa", "expected"), [(True, []), (False, ["root_mfa_disabled"])])
def test_root_without_mfa_is_critical_cis_1_5(root_mfa, expected):
    # Given an account whose root user has (or lacks) MFA, and no users
    inventory = make_inventory(account_id="333333333333", root_mfa=root_mfa)
    # When
    findings = evaluate(inventory, THRESHOLDS, NOW)
    # Then only the account without root MFA has the finding: 0 devices against the required 1
    assert [
        (f.rule_id, f.account_id, f.user_name, f.access_key_id, f.measured_value, f.threshold, f.cis_control)
        for f in findings
    ] == [(rule, "333333333333", None, None, 0, 1, "1.5") for rule in expected]
    assert all(f.severity is Severity.CRITICAL for f in findings)


@pytest.mark.parametrize(("idle", "reported"), [(0, False), (44, False), (45, True), (46, True)])
def test_console_password_unused_starts_at_the_window(idle, reported):
    # Given a console user with MFA whose password was last used `idle` days ago
    inventory = make_inventory(make_user("carol", console=True, mfa=True, password_used=idle))
    # When
    findings = evaluate(inventory, THRESHOLDS, NOW)
    # Then CIS 1.12's "45 days or greater" holds for passwords too
    expected = [("console_password_unused", "111111111111", "carol", None, idle, 45, "days", "1.12")]
    assert [
        (
            f.rule_id,
            f.account_id,
            f.user_name,
            f.access_key_id,
            f.measured_value,
            f.threshold,
            f.unit,
            f.cis_control,
        )
        for f in findings
    ] == (expected if reported else [])


@pytest.mark.parametrize(("set_days_ago", "reported"), [(44, False), (45, True)])
def test_a_password_never_used_counts_from_when_it_was_set(set_days_ago, reported):
    # Given a console user who never signed in, whose password was set `set_days_ago` days ago
    user = replace(
        make_user("dan", console=True, mfa=True, password_used=None),
        password_changed_at=days_ago(set_days_ago),
    )
    # When
    findings = evaluate(make_inventory(user), THRESHOLDS, NOW)
    # Then the idle time runs from the password's creation, not from the user's (500 days)
    assert [(f.rule_id, f.user_name, f.measured_value, f.threshold) for f in findings] == (
        [("console_password_unused", "dan", set_days_ago, 45)] if reported else []
    )


def test_users_without_a_password_have_no_password_finding():
    inventory = make_inventory(make_user("svc", console=False, password_used=None))
    assert rules_found(inventory) == []


def test_findings_say_whether_their_evidence_was_read_live():
    # Given data from a credential report: root row, console state, and one key's last use
    stale_key = replace(make_key("AKIASTALE", age=60, used=50), last_use_from_report=True)
    live_key = make_key("AKIALIVE", age=60, used=50)
    user = replace(make_user("erin", console=True, keys=(stale_key, live_key)), console_from_report=True)
    inventory = replace(make_inventory(user, root_keys=True), root_from_report=True)
    # When
    findings = evaluate(inventory, THRESHOLDS, NOW)
    # Then report-based findings are not verified live; key status/age and API last use are
    verified = {(f.rule_id, f.access_key_id): f.verified_live for f in findings}
    assert verified == {
        ("root_access_key_present", None): False,
        ("console_user_without_mfa", None): False,
        ("access_key_unused", "AKIASTALE"): False,
        ("access_key_unused", "AKIALIVE"): True,
        ("user_two_active_keys", None): True,
    }


def test_cis_mapping_names_its_benchmark_and_covers_every_rule():
    # Given the versioned mapping
    # Then every rule has a reviewed entry, never-used keys map to 1.12 (not 1.11), inactive keys to none
    assert CIS_BENCHMARK == "CIS AWS Foundations Benchmark v3.0.0"
    assert set(CIS_MAPPINGS) == set(RULE_IDS)
    assert {rule.rule_id: rule.cis_control for rule in RULES} == {
        "root_access_key_present": "1.4",
        "root_mfa_disabled": "1.5",
        "console_user_without_mfa": "1.10",
        "console_password_unused": "1.12",
        "access_key_too_old": "1.14",
        "access_key_unused": "1.12",
        "access_key_never_used": "1.12",
        "user_two_active_keys": "1.13",
        "inactive_access_key": "",
    }
