"""Rules: pure functions of inventory, thresholds and now; boundaries pinned day by day.

Every finding is checked as (rule, account, user, key, measured value, threshold), so a rule that
names the wrong user or key, or reports the wrong figure, fails here.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from iam_inventory.evaluate import rules
from iam_inventory.evaluate.cis import CIS_BENCHMARK
from iam_inventory.evaluate.registry import RuleRegistry, days_between, finding_id
from iam_inventory.evaluate.rules import RULE_IDS, RULES, evaluate
from iam_inventory.models import AttachedPolicy, Finding, Severity, Thresholds
from iam_inventory.models.credentials import (
    CredentialType,
    ServiceCredential,
    SigningCertificate,
    SshPublicKey,
)
from tests.builders import NOW, days_ago, make_inventory, make_key, make_user

THRESHOLDS = Thresholds(max_key_age_days=90, unused_key_days=45, never_used_grace_days=7)
ACCOUNT = "111111111111"
KEY = "AKIAEXAMPLE000000001"


def _pointed(finding):
    return finding.access_key_id or finding.credential_id


def pinned(inventory, thresholds=THRESHOLDS, now=NOW) -> list[tuple]:
    """(rule, account, user, key or credential id, measured value, threshold) of every finding, in order."""
    return [
        (f.rule_id, f.account_id, f.user_name, _pointed(f), f.measured_value, f.threshold)
        for f in evaluate(inventory, thresholds, now)
    ]


@pytest.mark.parametrize(
    ("age", "expected"),
    [(89, []), (90, []), (91, [("access_key_too_old", ACCOUNT, "alice", KEY, 91, 90)])],
)
def test_key_age_finding_starts_the_day_after_the_maximum(age, expected):
    # Given an active key of `age` days, used yesterday
    inventory = make_inventory(make_user(keys=(make_key(age=age, used=1),)))
    # When / Then: 90 days is "rotated every 90 days or less" (CIS 1.14), 91 is not
    assert pinned(inventory) == expected


@pytest.mark.parametrize(
    ("idle", "expected"),
    [
        (0, []),
        (44, []),
        (45, [("access_key_unused", ACCOUNT, "alice", KEY, 45, 45)]),
        (46, [("access_key_unused", ACCOUNT, "alice", KEY, 46, 45)]),
    ],
)
def test_unused_key_finding_starts_at_the_window(idle, expected):
    # Given a 60-day-old active key last used `idle` days ago
    inventory = make_inventory(make_user(keys=(make_key(age=60, used=idle),)))
    # Then: CIS 1.12 says "unused for 45 days or greater"
    assert pinned(inventory) == expected


@pytest.mark.parametrize(
    ("age", "expected"), [(0, []), (7, []), (8, [("access_key_never_used", ACCOUNT, "alice", KEY, 8, 7)])]
)
def test_never_used_key_gets_a_grace_period(age, expected):
    # Given an active key that was never used
    inventory = make_inventory(make_user(keys=(make_key(age=age, used=None),)))
    # Then it is reported only once older than the grace period, and never as "unused"
    assert pinned(inventory) == expected


def test_old_never_used_key_is_both_too_old_and_never_used():
    inventory = make_inventory(make_user(keys=(make_key(age=200, used=None),)))
    assert pinned(inventory) == [
        ("access_key_too_old", ACCOUNT, "alice", KEY, 200, 90),
        ("access_key_never_used", ACCOUNT, "alice", KEY, 200, 7),
    ]


def test_a_never_used_first_key_does_not_hide_an_unused_second_key():
    # Given a user whose first key was never used and whose second key has been idle for 50 days
    inventory = make_inventory(
        make_user(keys=(make_key("AKIANEVER", age=3, used=None), make_key("AKIAIDLE", age=60, used=50)))
    )
    # Then the second key is still judged on its last use
    assert pinned(inventory) == [
        ("access_key_unused", ACCOUNT, "alice", "AKIAIDLE", 50, 45),
        ("user_two_active_keys", ACCOUNT, "alice", None, 2, 1),
    ]


def test_a_used_first_key_does_not_hide_a_never_used_second_key():
    # Given a user whose first key is in use and whose second key was never used in 20 days
    inventory = make_inventory(
        make_user(keys=(make_key("AKIAUSED", age=30, used=1), make_key("AKIANEVER", age=20, used=None)))
    )
    assert pinned(inventory) == [
        ("access_key_never_used", ACCOUNT, "alice", "AKIANEVER", 20, 7),
        ("user_two_active_keys", ACCOUNT, "alice", None, 2, 1),
    ]


def test_two_active_keys_is_one_user_level_finding():
    # Given a user with two active keys and another with one active and one inactive
    two = make_user("two", keys=(make_key("AKIA1", age=10), make_key("AKIA2", age=20)))
    mixed = make_user("mixed", keys=(make_key("AKIA3", age=10), make_key("AKIA4", age=20, active=False)))
    # When
    findings = pinned(make_inventory(two, mixed))
    # Then only "two" has the two-keys finding, measured 2 against threshold 1; AKIA4 is only inactive
    assert findings == [
        ("user_two_active_keys", ACCOUNT, "two", None, 2, 1),
        ("inactive_access_key", ACCOUNT, "mixed", "AKIA4", 20, 0),
    ]


def test_inactive_key_is_reported_and_not_judged_on_age_or_use():
    inventory = make_inventory(make_user(keys=(make_key("AKIAOLD", age=300, used=200, active=False),)))
    assert pinned(inventory) == [("inactive_access_key", ACCOUNT, "alice", "AKIAOLD", 300, 0)]


def test_inactive_key_created_today_measures_zero_days():
    # Given an inactive key created an hour ago
    inventory = make_inventory(make_user(keys=(make_key("AKIANEW", age=0, active=False),)))
    assert pinned(inventory) == [("inactive_access_key", ACCOUNT, "alice", "AKIANEW", 0, 0)]


@pytest.mark.parametrize(
    ("console", "mfa", "expected"),
    [
        (True, False, [("console_user_without_mfa", ACCOUNT, "alice", None, 0, 1)]),
        (True, True, []),
        (False, False, []),
    ],
)
def test_console_user_without_mfa(console, mfa, expected):
    # Given a user with or without a console password and MFA; measured: MFA devices, threshold: 1
    assert pinned(make_inventory(make_user(console=console, mfa=mfa))) == expected


def test_root_access_key_is_one_account_level_finding():
    assert pinned(make_inventory(root_keys=True)) == [("root_access_key_present", ACCOUNT, None, None, 1, 0)]


def _quarantine(version: str = "", partition: str = "aws") -> AttachedPolicy:
    name = f"AWSCompromisedKeyQuarantine{version}"
    return AttachedPolicy(name, f"arn:{partition}:iam::aws:policy/{name}")


@pytest.mark.parametrize("version", ["", "V2", "V3"])
def test_every_quarantine_version_flags_each_active_key_and_no_inactive_one(version):
    # Given a quarantined user (in another partition) with two active keys and one inactive key
    user = replace(
        make_user(
            keys=(
                make_key("AKIAONE", age=3, used=0),
                make_key("AKIATWO", age=4, used=0),
                make_key("AKIAOFF", age=5, used=0, active=False),
            )
        ),
        attached_policies=(
            AttachedPolicy("ReadOnlyAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
            _quarantine(version, "aws-us-gov"),
        ),
    )
    # When / Then each active key is exposed (IAM does not say which one leaked); the inactive one is not
    exposed = [entry for entry in pinned(make_inventory(user)) if entry[0] == "access_key_exposed"]
    assert exposed == [
        ("access_key_exposed", ACCOUNT, "alice", "AKIAONE", 1, 0),
        ("access_key_exposed", ACCOUNT, "alice", "AKIATWO", 1, 0),
    ]


def test_quarantine_is_recognised_only_as_the_aws_managed_policy():
    # Given a customer policy that borrows the name, and a user quarantined twice over
    borrowed = AttachedPolicy(
        "AWSCompromisedKeyQuarantineV2", "arn:aws:iam::111111111111:policy/AWSCompromisedKeyQuarantineV2"
    )
    impostor = replace(
        make_user("eve", keys=(make_key("AKIAEVE", age=3, used=0),)), attached_policies=(borrowed,)
    )
    twice = replace(
        make_user("bob", keys=(make_key("AKIABOB", age=3, used=0),)),
        attached_policies=(_quarantine("V3"), _quarantine("V2"), _quarantine("V3")),
    )
    # When
    findings = evaluate(make_inventory(impostor, twice), THRESHOLDS, NOW)
    # Then only bob is flagged, once per key, measuring the distinct quarantine policies in name order
    assert [(f.user_name, f.measured_value, f.message) for f in findings] == [
        (
            "bob",
            2,
            "User bob is quarantined by AWS for exposed credentials (AWSCompromisedKeyQuarantineV2, "
            "AWSCompromisedKeyQuarantineV3) and access key AKIABOB is still active",
        )
    ]


def _bob(*keys, console=False, mfa=False, password_used=1):
    return replace(
        make_user("bob", keys=keys, console=console, mfa=mfa, password_used=password_used),
        tags={"owner": "team-a"},
    )


BEDROCK, CODECOMMIT = "bedrock.amazonaws.com", "codecommit.amazonaws.com"


def _service(service, age, *, lifetime=None, status="Active", now=NOW):
    created = days_ago(age, now)
    expires = None if lifetime is None else created + timedelta(days=lifetime)
    return ServiceCredential("ACCABOB", service, "bob-at-111111111111", status, created, expires)


def _holding(*, service=(), ssh=(), certs=()):
    return replace(_bob(), service_credentials=service, ssh_public_keys=ssh, signing_certificates=certs)


# Each rule's whole finding, in RULES order: severity, CIS control, unit, message and routing tags included.
WHOLE_FINDINGS = [
    (
        make_inventory(root_keys=True, root_mfa=True),
        ("root_access_key_present", Severity.CRITICAL, "1.4", None, None, 1, 0, "keys"),
        "The root user has an access key",
        {},
    ),
    (
        make_inventory(root_keys=False, root_mfa=False),
        ("root_mfa_disabled", Severity.CRITICAL, "1.5", None, None, 0, 1, "mfa_devices"),
        "The root user has no MFA device",
        {},
    ),
    (
        make_inventory(_bob(console=True, mfa=False, password_used=1)),
        ("console_user_without_mfa", Severity.HIGH, "1.10", "bob", None, 0, 1, "mfa_devices"),
        "User bob has a console password and no MFA device",
        {"owner": "team-a"},
    ),
    (
        make_inventory(_bob(console=True, mfa=True, password_used=50)),
        ("console_password_unused", Severity.MEDIUM, "1.12", "bob", None, 50, 45, "days"),
        "Console password of bob last used 50 days ago (window 45)",
        {"owner": "team-a"},
    ),
    (
        make_inventory(
            replace(_bob(make_key("AKIABOB", age=5, used=0)), attached_policies=(_quarantine("V3"),))
        ),
        # no CIS control: the signal is AWS's own quarantine, which no CIS control names
        ("access_key_exposed", Severity.HIGH, "", "bob", "AKIABOB", 1, 0, "policies"),
        "User bob is quarantined by AWS for exposed credentials (AWSCompromisedKeyQuarantineV3) and "
        "access key AKIABOB is still active",
        {"owner": "team-a"},
    ),
    (
        make_inventory(_bob(make_key("AKIABOB", age=120, used=2))),
        ("access_key_too_old", Severity.MEDIUM, "1.14", "bob", "AKIABOB", 120, 90, "days"),
        "Access key is 120 days old (maximum 90)",
        {"owner": "team-a"},
    ),
    (
        make_inventory(_bob(make_key("AKIABOB", age=60, used=50))),
        ("access_key_unused", Severity.MEDIUM, "1.12", "bob", "AKIABOB", 50, 45, "days"),
        "Access key last used 50 days ago (window 45)",
        {"owner": "team-a"},
    ),
    (
        make_inventory(_bob(make_key("AKIABOB", age=9, used=None))),
        # 1.12, not 1.11: 1.11 is about keys created at a console user's setup (evaluate/cis.py)
        ("access_key_never_used", Severity.MEDIUM, "1.12", "bob", "AKIABOB", 9, 7, "days"),
        "Access key created 9 days ago has never been used (grace 7)",
        {"owner": "team-a"},
    ),
    (
        make_inventory(_bob(make_key("AKIA1", age=5), make_key("AKIA2", age=6))),
        ("user_two_active_keys", Severity.LOW, "1.13", "bob", None, 2, 1, "keys"),
        "User bob has 2 active access keys",
        {"owner": "team-a"},
    ),
    (
        make_inventory(_bob(make_key("AKIABOB", age=30, active=False))),
        # no CIS control: an inactive key is already disabled, which is what 1.12 asks
        ("inactive_access_key", Severity.LOW, "", "bob", "AKIABOB", 30, 0, "days"),
        "Inactive access key (30 days old) should be deleted",
        {"owner": "team-a"},
    ),
    # The credentials beside access keys and passwords: no CIS control names them (evaluate/cis.py)
    (
        make_inventory(_holding(service=(_service(BEDROCK, 12),))),
        ("api_key_never_expires", Severity.HIGH, "", "bob", "ACCABOB", 12, 90, "days"),
        "Bedrock API key ACCABOB (bob-at-111111111111) of user bob never expires (created 12 days ago)",
        {"owner": "team-a"},
    ),
    (
        make_inventory(_holding(service=(_service(BEDROCK, 5, lifetime=365),))),
        ("api_key_lifetime_too_long", Severity.MEDIUM, "", "bob", "ACCABOB", 365, 90, "days"),
        "Bedrock API key ACCABOB (bob-at-111111111111) of user bob lives 365 days (maximum 90)",
        {"owner": "team-a"},
    ),
    (
        make_inventory(_holding(service=(_service(CODECOMMIT, 120),))),
        ("service_credential_too_old", Severity.MEDIUM, "", "bob", "ACCABOB", 120, 90, "days"),
        "CodeCommit Git credential ACCABOB (bob-at-111111111111) of user bob is 120 days old (maximum 90)",
        {"owner": "team-a"},
    ),
    (
        make_inventory(_holding(service=(_service(CODECOMMIT, 30, status="Inactive"),))),
        ("inactive_service_credential", Severity.LOW, "", "bob", "ACCABOB", 30, 0, "days"),
        "CodeCommit Git credential ACCABOB (bob-at-111111111111) of user bob is inactive (30 days old) "
        "and should be deleted",
        {"owner": "team-a"},
    ),
    (
        make_inventory(_holding(ssh=(SshPublicKey("APKABOB", "Active", days_ago(400)),))),
        ("ssh_key_too_old", Severity.MEDIUM, "", "bob", "APKABOB", 400, 90, "days"),
        "SSH public key APKABOB of user bob is 400 days old (maximum 90)",
        {"owner": "team-a"},
    ),
    (
        make_inventory(_holding(certs=(SigningCertificate("CERTBOB", "Active", days_ago(900)),))),
        ("signing_certificate_too_old", Severity.MEDIUM, "", "bob", "CERTBOB", 900, 90, "days"),
        "Signing certificate CERTBOB of user bob is 900 days old (maximum 90)",
        {"owner": "team-a"},
    ),
    (
        replace(make_inventory(), root_signing_certificate_active=True),
        ("root_signing_certificate_active", Severity.CRITICAL, "", None, None, 1, 0, "certificates"),
        "The root user has an active signing certificate",
        {},
    ),
    (
        make_inventory(_holding(ssh=(SshPublicKey("APKABOB", "Inactive", days_ago(30)),))),
        ("inactive_ssh_key", Severity.LOW, "", "bob", "APKABOB", 30, 0, "days"),
        "SSH public key APKABOB of user bob is inactive (30 days old) and should be deleted",
        {"owner": "team-a"},
    ),
    (
        make_inventory(_holding(certs=(SigningCertificate("CERTBOB", "Inactive", days_ago(30)),))),
        ("inactive_signing_certificate", Severity.LOW, "", "bob", "CERTBOB", 30, 0, "days"),
        "Signing certificate CERTBOB of user bob is inactive (30 days old) and should be deleted",
        {"owner": "team-a"},
    ),
]


def test_every_rule_has_a_whole_finding_case():
    # A rule added without a case here would go unpinned
    assert [fields[0] for _, fields, _, _ in WHOLE_FINDINGS] == list(RULE_IDS)


@pytest.mark.parametrize(
    ("inventory", "fields", "message", "tags"),
    WHOLE_FINDINGS,
    ids=[fields[0] for _, fields, _, _ in WHOLE_FINDINGS],
)
def test_each_rule_reports_the_whole_finding(inventory, fields, message, tags):
    rule_id, severity, cis, user, key, measured, threshold, unit = fields
    # An access key's id is the finding's access_key_id; any other credential's is its credential_id
    by_key = RULES[rule_id].credential is CredentialType.ACCESS_KEY
    # When the account is evaluated
    (finding,) = evaluate(inventory, THRESHOLDS, NOW)
    # Then the finding names the account, user and key, the figure against its threshold, and the owner
    assert finding == Finding(
        finding_id=finding_id(ACCOUNT, user, key, rule_id),
        rule_id=rule_id,
        severity=severity,
        cis_control=cis,
        account_id=ACCOUNT,
        user_name=user,
        access_key_id=key if by_key else None,
        measured_value=measured,
        threshold=threshold,
        unit=unit,
        message=message,
        tags=tags,
        verified_live=True,
        credential_id=None if by_key else key,
    )
    assert finding.tags == tags


def test_finding_carries_the_account_it_was_found_in():
    inventory = make_inventory(
        make_user("bob", keys=(make_key("AKIABOB", age=120, used=2),)), account_id="222222222222"
    )
    assert pinned(inventory, Thresholds(max_key_age_days=100)) == [
        ("access_key_too_old", "222222222222", "bob", "AKIABOB", 120, 100)
    ]


def test_thresholds_are_configurable():
    inventory = make_inventory(make_user(keys=(make_key(age=31, used=1),)))
    thresholds = Thresholds(max_key_age_days=30, unused_key_days=45, never_used_grace_days=7)
    assert pinned(inventory, thresholds) == [("access_key_too_old", ACCOUNT, "alice", KEY, 31, 30)]


def test_clean_user_has_no_findings():
    inventory = make_inventory(make_user(console=True, mfa=True, keys=(make_key(age=10, used=0),)))
    assert pinned(inventory) == []


def test_finding_ids_are_stable_across_releases():
    # Reports, history and the new/resolved comparison key on these ids: a change marks every finding new.
    assert finding_id("111111111111", "bob", "AKIA1", "access_key_too_old") == "d26e68675d4eb77727578cf4"
    assert finding_id("111111111111", None, None, "root_access_key_present") == "41c3e5fad2034a437543f7ef"
    assert finding_id("111111111111", "bob", None, "user_two_active_keys") == "903009e7168c4245add4643e"


def test_finding_ids_are_distinct_per_account_user_key_and_rule():
    ids = {finding_id("111111111111", "bob", "AKIA1", rule) for rule in RULE_IDS}
    ids |= {
        finding_id("222222222222", "bob", "AKIA1", "access_key_too_old"),
        finding_id("111111111111", "carol", "AKIA1", "access_key_too_old"),
        finding_id("111111111111", "bob", "AKIA2", "access_key_too_old"),
    }
    assert len(ids) == len(RULE_IDS) + 3


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


@pytest.mark.parametrize(
    ("password", "removed", "expected"),
    [(True, False, ["root_mfa_disabled"]), (None, False, ["root_mfa_disabled"]), (False, True, [])],
    ids=["password", "password not read", "credentials removed"],
)
def test_root_without_mfa_is_flagged_only_when_it_can_sign_in(password, removed, expected):
    # Given a root without MFA that has a password, was not asked, or had its credentials removed centrally
    inventory = replace(
        make_inventory(root_mfa=False), root_password_present=password, root_credentials_removed=removed
    )
    # When
    findings = evaluate(inventory, THRESHOLDS, NOW)
    # Then only a root that can (or may) sign in with a password lacks MFA in a way anyone can fix
    assert [f.rule_id for f in findings] == expected


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
    assert [(f.rule_id, f.user_name, f.measured_value, f.threshold, f.message) for f in findings] == (
        [
            (
                "console_password_unused",
                "dan",
                set_days_ago,
                45,
                f"Console password of dan never used, set {set_days_ago} days ago (window 45)",
            )
        ]
        if reported
        else []
    )


def test_a_password_never_used_nor_dated_is_not_measured():
    # Given a console user created 500 days ago who never signed in, with no record of when the password
    # was last set (the API path: the login profile's CreateDate predates any admin reset)
    user = make_user("gil", console=True, mfa=True, password_used=None)
    assert user.password_changed_at is None
    # When
    findings = evaluate(make_inventory(user), THRESHOLDS, NOW)
    # Then nothing is measured from the user's creation: a password reset yesterday is not "500 days idle"
    assert findings == []


def test_a_password_used_recently_wins_over_an_old_set_date():
    # Given a password set 300 days ago and used 3 days ago
    user = replace(
        make_user("hana", console=True, mfa=True, password_used=3), password_changed_at=days_ago(300)
    )
    # Then it is not idle
    assert evaluate(make_inventory(user), THRESHOLDS, NOW) == []


def rules_found(inventory) -> list[str]:
    return [finding.rule_id for finding in evaluate(inventory, THRESHOLDS, NOW)]


def test_users_without_a_password_have_no_password_finding():
    inventory = make_inventory(make_user("svc", console=False, password_used=None))
    assert rules_found(inventory) == []


def test_a_user_without_a_password_does_not_hide_the_next_users_idle_password():
    # Given a service user without a console password, listed before a console user idle for 60 days
    inventory = make_inventory(
        make_user("svc", console=False), make_user("ivy", console=True, mfa=True, password_used=60)
    )
    # Then the console user's password is still judged
    assert pinned(inventory) == [("console_password_unused", ACCOUNT, "ivy", None, 60, 45)]


def test_findings_say_whether_their_evidence_was_read_live():
    # Given data from a credential report: root row, console state, and two keys' last use
    stale_key = replace(make_key("AKIASTALE", age=60, used=50), last_use_from_report=True)
    stale_never = replace(make_key("AKIASTALENEVER", age=60, used=None), last_use_from_report=True)
    live_key = make_key("AKIALIVE", age=60, used=50)
    live_never = make_key("AKIALIVENEVER", age=60, used=None)
    erin = make_user("erin", console=True, password_used=50, keys=(stale_key, stale_never))
    frank = make_user("frank", console=True, mfa=False, password_used=50, keys=(live_key, live_never))
    inventory = replace(
        make_inventory(replace(erin, console_from_report=True), frank, root_keys=True, root_mfa=False),
        root_from_report=True,
    )
    # When
    findings = evaluate(inventory, THRESHOLDS, NOW)
    # Then report-based findings are not verified live; key status/age and API last use are
    verified = {(f.rule_id, f.user_name, f.access_key_id): f.verified_live for f in findings}
    assert verified == {
        ("root_access_key_present", None, None): False,
        ("root_mfa_disabled", None, None): False,
        ("console_user_without_mfa", "erin", None): False,
        ("console_user_without_mfa", "frank", None): True,
        ("console_password_unused", "erin", None): False,
        ("console_password_unused", "frank", None): True,
        ("access_key_unused", "erin", "AKIASTALE"): False,
        ("access_key_unused", "frank", "AKIALIVE"): True,
        ("access_key_never_used", "erin", "AKIASTALENEVER"): False,
        ("access_key_never_used", "frank", "AKIALIVENEVER"): True,
        ("user_two_active_keys", "erin", None): True,
        ("user_two_active_keys", "frank", None): True,
    }


def test_root_findings_read_live_are_verified():
    # Given root state read live (GetAccountSummary), not from the report's root row
    inventory = make_inventory(root_keys=True, root_mfa=False)
    # Then both root findings say so
    assert [(f.rule_id, f.verified_live) for f in evaluate(inventory, THRESHOLDS, NOW)] == [
        ("root_access_key_present", True),
        ("root_mfa_disabled", True),
    ]


def test_cis_mapping_names_its_benchmark_and_covers_every_rule():
    # Given the versioned mapping
    # Then every rule has a reviewed entry, never-used keys map to 1.12 (not 1.11), inactive keys to none
    assert CIS_BENCHMARK == "CIS AWS Foundations Benchmark v3.0.0"
    assert [rule.rule_id for rule in RULES] == list(RULE_IDS)
    assert {rule.rule_id: rule.cis_control for rule in RULES} == {
        "root_access_key_present": "1.4",
        "root_mfa_disabled": "1.5",
        "console_user_without_mfa": "1.10",
        "console_password_unused": "1.12",
        "access_key_exposed": "",
        "access_key_too_old": "1.14",
        "access_key_unused": "1.12",
        "access_key_never_used": "1.12",
        "user_two_active_keys": "1.13",
        "inactive_access_key": "",
        # no CIS v3.0.0 control names the credentials beside access keys and passwords
        **dict.fromkeys(RULE_IDS[10:], ""),
    }
    assert len(RULE_IDS) == 19


def test_two_users_findings_of_one_rule_have_distinct_ids():
    # Given two users each with an old key: their findings must not collapse into one id
    inventory = make_inventory(
        make_user("bob", keys=(make_key("AKIABOB", age=100),)),
        make_user("carol", keys=(make_key("AKIACAROL", age=100),)),
    )
    findings = evaluate(inventory, THRESHOLDS, NOW)
    assert [f.finding_id for f in findings] == [
        finding_id(ACCOUNT, "bob", "AKIABOB", "access_key_too_old"),
        finding_id(ACCOUNT, "carol", "AKIACAROL", "access_key_too_old"),
    ]


def test_days_between_counts_whole_days_and_never_goes_negative():
    assert days_between(NOW - timedelta(days=3, hours=23), NOW) == 3
    assert days_between(NOW, NOW) == 0
    # a key created "after" now (clock skew between IAM and the job) is 0 days old, not -1
    assert days_between(NOW + timedelta(hours=2), NOW) == 0


class _PoisonedClock(datetime):
    """Stands in for `datetime` inside the rules module: reading the wall clock fails the test."""

    @classmethod
    def now(cls, tz=None):
        raise AssertionError("a rule read the wall clock (datetime.now)")

    @classmethod
    def utcnow(cls):
        raise AssertionError("a rule read the wall clock (datetime.utcnow)")

    @classmethod
    def today(cls):
        raise AssertionError("a rule read the wall clock (datetime.today)")


def _every_rule_fires(now: datetime):
    """One account where every rule fires once or more, every date counted back from `now`."""
    keys = (
        make_key("AKIAOLD", age=200, used=None, now=now),
        make_key("AKIAIDLE", age=60, used=50, now=now),
        make_key("AKIAOFF", age=30, active=False, now=now),
    )
    # Every credential state spelled out: the builders' defaults (root MFA on, a password used
    # yesterday, dates counted from NOW) would silently turn rules off at another `now`.
    bob = replace(
        make_user("bob", keys=keys, console=True, mfa=False),
        created_at=days_ago(500, now),
        password_last_used=days_ago(50, now),
        attached_policies=(_quarantine("V3"),),
        service_credentials=(
            _service(BEDROCK, 200, now=now),
            replace(_service(BEDROCK, 5, lifetime=365, now=now), credential_id="ACCALONG"),
            replace(_service(CODECOMMIT, 30, status="Inactive", now=now), credential_id="ACCAOFF"),
        ),
        ssh_public_keys=(
            SshPublicKey("APKAOLD", "Active", days_ago(400, now)),
            SshPublicKey("APKAOFF", "Inactive", days_ago(30, now)),
        ),
        signing_certificates=(
            SigningCertificate("CERTOLD", "Active", days_ago(900, now)),
            SigningCertificate("CERTOFF", "Inactive", days_ago(30, now)),
        ),
    )
    inventory = make_inventory(bob, root_keys=True, root_mfa=False)
    return replace(inventory, root_signing_certificate_active=True)


EVERY_RULE_PINNED = [
    ("root_access_key_present", ACCOUNT, None, None, 1, 0),
    ("root_mfa_disabled", ACCOUNT, None, None, 0, 1),
    ("console_user_without_mfa", ACCOUNT, "bob", None, 0, 1),
    ("console_password_unused", ACCOUNT, "bob", None, 50, 45),
    ("access_key_exposed", ACCOUNT, "bob", "AKIAOLD", 1, 0),
    ("access_key_exposed", ACCOUNT, "bob", "AKIAIDLE", 1, 0),
    ("access_key_too_old", ACCOUNT, "bob", "AKIAOLD", 200, 90),
    ("access_key_unused", ACCOUNT, "bob", "AKIAIDLE", 50, 45),
    ("access_key_never_used", ACCOUNT, "bob", "AKIAOLD", 200, 7),
    ("user_two_active_keys", ACCOUNT, "bob", None, 2, 1),
    ("inactive_access_key", ACCOUNT, "bob", "AKIAOFF", 30, 0),
    ("api_key_never_expires", ACCOUNT, "bob", "ACCABOB", 200, 90),
    ("api_key_lifetime_too_long", ACCOUNT, "bob", "ACCALONG", 365, 90),
    ("service_credential_too_old", ACCOUNT, "bob", "ACCABOB", 200, 90),
    ("inactive_service_credential", ACCOUNT, "bob", "ACCAOFF", 30, 0),
    ("ssh_key_too_old", ACCOUNT, "bob", "APKAOLD", 400, 90),
    ("signing_certificate_too_old", ACCOUNT, "bob", "CERTOLD", 900, 90),
    ("root_signing_certificate_active", ACCOUNT, None, None, 1, 0),
    ("inactive_ssh_key", ACCOUNT, "bob", "APKAOFF", 30, 0),
    ("inactive_signing_certificate", ACCOUNT, "bob", "CERTOFF", 30, 0),
]


def test_the_every_rule_account_fires_every_rule_at_the_usual_now():
    # Given the account built for the clock test, at the usual NOW
    # Then every rule fires: the clock test below covers each of them, the new ones included
    findings = pinned(_every_rule_fires(NOW))
    assert findings == EVERY_RULE_PINNED
    assert [rule for rule in RULE_IDS if rule not in {finding[0] for finding in findings}] == []


def _poison_every_rule_module(monkeypatch):
    # Every module that holds a registered check, so a rule module added later is poisoned too
    for module in {sys.modules[rule.check.__module__] for rule in RULES} | {rules}:
        monkeypatch.setattr(module, "datetime", _PoisonedClock, raising=False)


def test_evaluation_does_not_depend_on_the_wall_clock(monkeypatch):
    # Given the clock poisoned inside every rule module, and `now` twenty-five years in the past,
    # so that a rule reading the real clock would both fail and measure ~9000 more days
    _poison_every_rule_module(monkeypatch)
    past = datetime(2001, 3, 4, 5, 6, tzinfo=UTC)
    # When every rule is evaluated at that `now`
    findings = evaluate(_every_rule_fires(past), THRESHOLDS, past)
    # Then the figures are those of the injected `now`, exactly, in the messages too
    assert [
        (f.rule_id, f.account_id, f.user_name, _pointed(f), f.measured_value, f.threshold) for f in findings
    ] == EVERY_RULE_PINNED
    assert [f.message for f in findings] == [
        "The root user has an access key",
        "The root user has no MFA device",
        "User bob has a console password and no MFA device",
        "Console password of bob last used 50 days ago (window 45)",
        "User bob is quarantined by AWS for exposed credentials (AWSCompromisedKeyQuarantineV3) and access "
        "key AKIAOLD is still active",
        "User bob is quarantined by AWS for exposed credentials (AWSCompromisedKeyQuarantineV3) and access "
        "key AKIAIDLE is still active",
        "Access key is 200 days old (maximum 90)",
        "Access key last used 50 days ago (window 45)",
        "Access key created 200 days ago has never been used (grace 7)",
        "User bob has 2 active access keys",
        "Inactive access key (30 days old) should be deleted",
        "Bedrock API key ACCABOB (bob-at-111111111111) of user bob never expires (created 200 days ago)",
        "Bedrock API key ACCALONG (bob-at-111111111111) of user bob lives 365 days (maximum 90)",
        "Bedrock API key ACCABOB (bob-at-111111111111) of user bob is 200 days old (maximum 90)",
        "CodeCommit Git credential ACCAOFF (bob-at-111111111111) of user bob is inactive (30 days old) and "
        "should be deleted",
        "SSH public key APKAOLD of user bob is 400 days old (maximum 90)",
        "Signing certificate CERTOLD of user bob is 900 days old (maximum 90)",
        "The root user has an active signing certificate",
        "SSH public key APKAOFF of user bob is inactive (30 days old) and should be deleted",
        "Signing certificate CERTOFF of user bob is inactive (30 days old) and should be deleted",
    ]


def test_the_poisoned_clock_catches_a_rule_that_reads_it(monkeypatch):
    # Given a rule that asks the rules module's datetime for the time, and the poisoned clock
    extra = RuleRegistry()

    @extra.register(
        "reads_the_clock",
        title="t",
        severity=Severity.LOW,
        cis=rules.RULES["inactive_access_key"].cis,
        scope=rules.RULES["inactive_access_key"].scope,
        remedy=rules.RULES["inactive_access_key"].remedy,
    )
    def reads_the_clock(rule, inventory, thresholds, now):
        rules.datetime.now(UTC)
        return []

    _poison_every_rule_module(monkeypatch)
    monkeypatch.setattr(rules, "RULES", rules.RULES.merged(extra))
    # Then evaluating fails, so the test above can fail
    with pytest.raises(AssertionError, match="wall clock"):
        evaluate(_every_rule_fires(NOW), THRESHOLDS, NOW)
