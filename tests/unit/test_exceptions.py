"""Risk exceptions: strict parsing against the run date, and how they split findings."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from iam_inventory.core.errors import IamInventoryError
from iam_inventory.evaluate.exceptions import (
    EXCEPTION_EXPIRED,
    ExceptionMatch,
    ExceptionSet,
    ExceptionsFileError,
    FindingScope,
    RiskException,
    apply_exceptions,
    matches,
)
from iam_inventory.evaluate.exceptions_format import load_exceptions_text, parse_exceptions
from iam_inventory.evaluate.registry import finding_id
from iam_inventory.models import Finding, Severity

TODAY = date(2026, 12, 1)


def make_finding(
    rule: str = "access_key_unused",
    account: str = "111111111111",
    user: str | None = "ci-deployer",
    key: str | None = "AKIAEXAMPLE000000001",
    severity: Severity = Severity.MEDIUM,
) -> Finding:
    return Finding(
        finding_id=finding_id(account, user, key, rule),
        rule_id=rule,
        severity=severity,
        cis_control="1.12",
        account_id=account,
        user_name=user,
        access_key_id=key,
        measured_value=60,
        threshold=45,
        unit="days",
        message="m",
    )


def entry(**overrides: object) -> dict:
    base = {
        "id": "ci-legacy",
        "match": {"account": "111111111111", "rule": "access_key_unused"},
        "owner": "team-ci",
        "reason": "legacy deployer, replaced in Q1",
        "ticket": "SEC-1",
        "expires": "2027-03-31",
    }
    base.update(overrides)
    return base


def exception(exception_id: str = "x", expires: date = date(2027, 1, 1), **match: str) -> RiskException:
    return RiskException(exception_id, ExceptionMatch(**match), "team", "why", expires)


def problems_of(document: object) -> tuple[str, ...]:
    with pytest.raises(ExceptionsFileError) as caught:
        parse_exceptions(document, TODAY, "exceptions.json")
    return caught.value.problems


def test_a_valid_file_parses_every_field():
    # Given a version 1 file with one entry using every field
    document = {
        "version": 1,
        "exceptions": [
            entry(
                match={
                    "account": "111111111111",
                    "ou_path": "/Root/Workloads/",
                    "user": "ci-*",
                    "access_key_id": "AKIAEXAMPLE000000001",
                    "rule": "access_key_unused",
                }
            )
        ],
    }
    # When it is parsed
    parsed = parse_exceptions(document, TODAY, "exceptions.json")
    # Then every field is kept, the OU path without its outer slashes
    assert parsed.source == "exceptions.json"
    assert parsed.exceptions == (
        RiskException(
            "ci-legacy",
            ExceptionMatch(
                "111111111111", "Root/Workloads", "ci-*", "AKIAEXAMPLE000000001", "access_key_unused"
            ),
            "team-ci",
            "legacy deployer, replaced in Q1",
            date(2027, 3, 31),
            "SEC-1",
        ),
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"expires": "2027-12-02"},
            "exceptions[0] (id 'ci-legacy'): expires: 2027-12-02 is more than 365 days "
            "after 2026-12-01 (latest 2027-12-01)",
        ),
        ({"expires": None}, "exceptions[0] (id 'ci-legacy'): expires: required (YYYY-MM-DD)"),
        (
            {"expires": "31/03/2027"},
            "exceptions[0] (id 'ci-legacy'): expires: must be a date YYYY-MM-DD (got '31/03/2027')",
        ),
        (
            {"expires": "2027-02-30"},
            "exceptions[0] (id 'ci-legacy'): expires: '2027-02-30' is not a calendar date",
        ),
        ({"owner": ""}, "exceptions[0] (id 'ci-legacy'): owner: must be a non-empty string"),
        ({"reason": None}, "exceptions[0] (id 'ci-legacy'): reason: required"),
        (
            {"id": "has space"},
            "exceptions[0] (id 'has space'): id: must be letters, digits and _ . : / - (1-128) "
            "(got 'has space')",
        ),
        (
            {"match": {}},
            "exceptions[0] (id 'ci-legacy'): match: set at least one of account, ou_path, user, "
            "access_key_id, rule, credential_id (an empty match would hide everything)",
        ),
        (
            {"match": {"account": 111111111111}},
            "exceptions[0] (id 'ci-legacy'): match.account: must be a non-empty "
            "string (a 12-digit account id in quotes)",
        ),
        (
            {"match": {"rule": "no_such_rule"}},
            "exceptions[0] (id 'ci-legacy'): match.rule: unknown rule "
            "'no_such_rule' (known: root_access_key_present, root_mfa_disabled, console_user_without_mfa, "
            "console_password_unused, access_key_exposed, access_key_too_old, access_key_unused, "
            "access_key_never_used, user_two_active_keys, inactive_access_key, api_key_never_expires, "
            "api_key_lifetime_too_long, service_credential_too_old, inactive_service_credential, "
            "ssh_key_too_old, signing_certificate_too_old, root_signing_certificate_active, "
            "inactive_ssh_key, inactive_signing_certificate)",
        ),
        (
            {"match": {"access_key_id": "akia-lower"}},
            "exceptions[0] (id 'ci-legacy'): match.access_key_id: must be an "
            "access key id such as AKIA... (got 'akia-lower')",
        ),
        (
            {"match": {"acount": "111111111111"}},
            "exceptions[0] (id 'ci-legacy'): match.acount: unknown field",
        ),
        ({"expiry": "2027-01-01"}, "exceptions[0] (id 'ci-legacy'): expiry: unknown field"),
    ],
)
def test_each_problem_names_the_entry_and_the_field(overrides, expected):
    # Given a file whose only entry has one problem
    document = {"version": 1, "exceptions": [entry(**overrides)]}
    # When it is parsed, then the problem names the entry (index and id) and the field
    assert expected in problems_of(document)


def test_every_problem_is_reported_at_once_and_nothing_is_applied():
    # Given a file with a good entry, a bad one without an id, and a duplicate id
    document = {"version": 1, "exceptions": [entry(), {"match": {"rule": "access_key_unused"}}, entry()]}
    # When it is parsed
    problems = problems_of(document)
    # Then every problem is listed, so one fix-and-retry round is enough
    assert problems == (
        "exceptions[1] (no id): id: required",
        "exceptions[1] (no id): owner: required",
        "exceptions[1] (no id): reason: required",
        "exceptions[1] (no id): expires: required (YYYY-MM-DD)",
        "exceptions[2] (id 'ci-legacy'): id: duplicate of an earlier entry",
    )


def test_the_error_is_an_iam_inventory_error_on_one_line():
    # Given a file with two problems
    with pytest.raises(IamInventoryError) as caught:
        parse_exceptions({"version": 2, "exceptions": [entry(owner=None)]}, TODAY, "s3://b/exceptions.json")
    # Then the message is one line naming the source and each problem
    assert str(caught.value) == (
        "exceptions file s3://b/exceptions.json is invalid: version: must be 1 (got 2); "
        "exceptions[0] (id 'ci-legacy'): owner: required"
    )
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", ("not valid JSON at line 1 column 2",)),
        ("[]", ('top level: must be an object {"version": 1, "exceptions": [...]}',)),
        ('{"version": 1}', ("exceptions: must be a list",)),
        ('{"version": 1, "exceptions": [], "extra": 1}', ("top level: unknown field 'extra'",)),
        (b'{"a": "\xff"}', ("not valid JSON",)),  # not UTF-8
    ],
)
def test_malformed_documents_are_refused(text, expected):
    with pytest.raises(ExceptionsFileError) as caught:
        load_exceptions_text(text, TODAY, "f.json")
    assert caught.value.problems == expected


def test_expiry_exactly_365_days_ahead_is_allowed_and_expired_entries_still_parse():
    # Given one entry expiring on the last allowed day and one that expired yesterday
    text = json.dumps(
        {
            "version": 1,
            "exceptions": [entry(id="a", expires="2027-12-01"), entry(id="b", expires="2026-11-30")],
        }
    )
    # When parsed, then both are kept: an expired entry is how a finding comes back on
    parsed = load_exceptions_text(text, TODAY, "f.json")
    assert [(item.exception_id, item.expired(TODAY)) for item in parsed.exceptions] == [
        ("a", False),
        ("b", True),
    ]


def test_an_exception_is_valid_through_its_expiry_day():
    item = exception(expires=TODAY)
    assert (item.expired(TODAY), item.expired(date(2026, 12, 2))) == (False, True)


@pytest.mark.parametrize(
    ("match", "scope", "expected"),
    [
        ({"account_id": "111111111111"}, FindingScope(), True),
        ({"account_id": "222222222222"}, FindingScope(), False),
        ({"rule_id": "access_key_unused"}, FindingScope(), True),
        ({"rule_id": "access_key_too_old"}, FindingScope(), False),
        ({"access_key_id": "AKIAEXAMPLE000000001"}, FindingScope(), True),
        ({"access_key_id": "AKIAEXAMPLE000000002"}, FindingScope(), False),
        ({"user": "ci-*"}, FindingScope(), True),
        ({"user": "CI-DEPLOYER"}, FindingScope(), True),  # IAM names are unique regardless of case
        ({"user": "ci-?"}, FindingScope(), False),
        (
            {"user": "arn:aws:iam::111111111111:user/build/*"},
            FindingScope(user_arn="arn:aws:iam::111111111111:user/build/ci-deployer"),
            True,
        ),
        (
            {"user": "arn:aws:iam::111111111111:user/build/*"},
            FindingScope(user_arn="arn:aws:iam::111111111111:user/ci-deployer"),
            False,
        ),
        ({"user": "arn:aws:iam::*"}, FindingScope(user_arn=None), False),
        ({"ou_path": "Root/Workloads"}, FindingScope(ou_path="Root/Workloads/Prod"), True),
        ({"ou_path": "Root/Workloads"}, FindingScope(ou_path="Root/Workloads"), True),
        ({"ou_path": "Root/Work"}, FindingScope(ou_path="Root/Workloads"), False),  # whole segments only
        ({"ou_path": "Root/Workloads"}, FindingScope(ou_path=""), False),
        (
            {"account_id": "111111111111", "rule_id": "access_key_too_old"},
            FindingScope(),
            False,
        ),  # all must match
    ],
)
def test_matching(match, scope, expected):
    assert matches(exception(**match), make_finding(), scope) is expected


def test_a_user_pattern_never_matches_a_root_finding():
    root = make_finding(rule="root_access_key_present", user=None, key=None)
    assert matches(exception(user="*"), root, FindingScope()) is False
    assert matches(exception(account_id="111111111111"), root, FindingScope()) is True


def test_apply_splits_active_suppressed_expired_and_stale():
    # Given four findings and four exceptions: one active, one expired, one stale, one shadowed
    unused = make_finding()
    old = make_finding(rule="access_key_too_old")
    mfa = make_finding(rule="console_user_without_mfa", key=None)
    other = make_finding(account="222222222222")
    exceptions = ExceptionSet(
        "f.json",
        exceptions=(
            exception(
                "expired-first", date(2026, 11, 1), rule_id="access_key_unused", account_id="111111111111"
            ),
            exception("active", date(2027, 1, 1), rule_id="access_key_unused", account_id="111111111111"),
            exception("lapsed", date(2026, 11, 30), rule_id="access_key_too_old"),
            exception("stale", date(2027, 1, 1), account_id="333333333333"),
        ),
    )
    # When they are applied on the run date
    outcome = apply_exceptions([unused, old, mfa, other], exceptions, TODAY)
    # Then the unused key is suppressed by the unexpired entry even though an expired one is listed first,
    assert [(s.finding.finding_id, s.exception.exception_id) for s in outcome.suppressed] == [
        (unused.finding_id, "active")
    ]
    # the old key is back on with the note, the others were never covered, and one entry matched nothing
    assert outcome.active == (old, mfa, other)
    assert [(e.finding, e.exception.exception_id, e.note) for e in outcome.expired] == [
        (old, "lapsed", EXCEPTION_EXPIRED)
    ]
    assert [item.exception_id for item in outcome.stale] == ["stale"]


def test_apply_uses_the_scope_for_ou_and_arn_patterns():
    # Given an exception on an OU and a finding whose account sits under it
    finding = make_finding()
    exceptions = ExceptionSet("f", exceptions=(exception("ou", ou_path="Root/Sandbox"),))
    scopes = {"111111111111": FindingScope(ou_path="Root/Sandbox/Dev")}
    # When applied with and without the scope lookup
    with_scope = apply_exceptions([finding], exceptions, TODAY, lambda f: scopes[f.account_id])
    without = apply_exceptions([finding], exceptions, TODAY)
    # Then only the lookup lets the OU match
    assert [s.finding for s in with_scope.suppressed] == [finding]
    assert (without.active, [e.exception_id for e in without.stale]) == ((finding,), ["ou"])


def test_an_empty_exception_set_changes_nothing():
    findings = [make_finding(), replace(make_finding(), finding_id="other")]
    outcome = apply_exceptions(findings, ExceptionSet("none"), TODAY)
    assert (outcome.active, outcome.suppressed, outcome.expired, outcome.stale) == (
        tuple(findings),
        (),
        (),
        (),
    )


def test_a_field_name_with_a_newline_still_gives_one_line_per_problem():
    problems = problems_of({"version": 1, "exceptions": [entry(**{"own\ner": "x"})]})
    assert problems == ("exceptions[0] (id 'ci-legacy'): own?er: unknown field",)
