"""Verify before flag: report-based candidates re-read live with the one call that holds their evidence."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from botocore.exceptions import ClientError

from iam_inventory.collect.verify import EVIDENCE, verify_candidates
from iam_inventory.core.budget import Deadline
from iam_inventory.evaluate.rules import RULE_IDS, evaluate
from iam_inventory.models import Thresholds
from tests.builders import NOW, days_ago, make_inventory, make_key, make_user

THRESHOLDS = Thresholds()


class LiveIam:
    """IAM as it is now: per-user MFA, passwords and key use; every call recorded."""

    def __init__(self, mfa: set[str], passwords: dict[str, object], used: dict[str, object]) -> None:
        self.mfa, self.passwords, self.used = mfa, passwords, used
        self.calls: list[str] = []

    def _missing(self, operation: str) -> ClientError:
        return ClientError({"Error": {"Code": "NoSuchEntity", "Message": "gone"}}, operation)

    def list_mfa_devices(self, UserName: str) -> dict:
        self.calls.append(f"ListMFADevices:{UserName}")
        if UserName == "deleted":
            raise self._missing("ListMFADevices")
        return {"MFADevices": [{"SerialNumber": "x"}] if UserName in self.mfa else []}

    def get_login_profile(self, UserName: str) -> dict:
        self.calls.append(f"GetLoginProfile:{UserName}")
        if UserName not in self.passwords:
            raise self._missing("GetLoginProfile")
        return {"LoginProfile": {"CreateDate": self.passwords[UserName]}}

    def get_user(self, UserName: str) -> dict:
        self.calls.append(f"GetUser:{UserName}")
        return {"User": {"UserName": UserName, "PasswordLastUsed": NOW - timedelta(hours=1)}}

    def get_access_key_last_used(self, AccessKeyId: str) -> dict:
        self.calls.append(f"GetAccessKeyLastUsed:{AccessKeyId}")
        when = self.used.get(AccessKeyId)
        return {"AccessKeyLastUsed": {"LastUsedDate": when, "ServiceName": "s3", "Region": "us-east-1"}}

    def get_account_summary(self) -> dict:
        self.calls.append("GetAccountSummary")
        return {"SummaryMap": {"AccountAccessKeysPresent": 0, "AccountMFAEnabled": 1}}


def from_report(user):
    keys = tuple(replace(key, last_use_from_report=True) for key in user.access_keys)
    return replace(user, console_from_report=True, access_keys=keys)


def test_every_rule_that_can_rest_on_the_report_has_a_live_check():
    # Given an inventory where every datum came from the report and every rule fires
    user = from_report(
        make_user(
            "all",
            console=True,
            password_used=100,
            keys=(make_key("AKIA1", 200, 60), make_key("AKIA2", 30, None)),
        )
    )
    inventory = replace(
        make_inventory(user, root_keys=True, root_mfa=False),
        root_from_report=True,
        root_signing_certificate_active=True,
    )
    # When evaluated
    stale = {f.rule_id for f in evaluate(inventory, THRESHOLDS, NOW) if not f.verified_live}
    # Then each rule with report-based evidence has a verification, and every named rule exists
    assert stale == set(EVIDENCE)
    assert set(EVIDENCE) <= set(RULE_IDS)


def test_candidates_that_no_longer_hold_are_cleared_and_those_that_hold_are_verified():
    # Given report-based candidates: bob (MFA since), carol (still no MFA), a key used since, root
    bob = from_report(make_user("bob", console=True))
    carol = from_report(make_user("carol", console=True))
    dave = from_report(make_user("dave", keys=(make_key("AKIADAVE", 60, 50),)))
    inventory = replace(make_inventory(bob, carol, dave, root_keys=True), root_from_report=True)
    iam = LiveIam(mfa={"bob"}, passwords={"carol": days_ago(10)}, used={"AKIADAVE": NOW - timedelta(days=1)})

    # When the candidates are verified
    candidates = evaluate(inventory, THRESHOLDS, NOW)
    verified, calls = verify_candidates(iam, inventory, candidates, 1, Deadline.unlimited())

    # Then one call per piece of evidence (two for carol, whose finding stands on her password too)
    assert sorted(iam.calls) == sorted(
        [
            "GetAccountSummary",
            "ListMFADevices:bob",
            "ListMFADevices:carol",
            "GetLoginProfile:carol",
            "GetAccessKeyLastUsed:AKIADAVE",
        ]
    )
    assert calls == 5
    # And only what holds live is reported, marked verified
    findings = evaluate(verified, THRESHOLDS, NOW)
    assert [(f.rule_id, f.user_name, f.measured_value, f.threshold, f.verified_live) for f in findings] == [
        ("console_user_without_mfa", "carol", 0, 1, True)
    ]


def test_a_candidate_user_deleted_since_is_dropped_not_the_account():
    # Given a report-based candidate whose user was deleted since
    inventory = make_inventory(
        from_report(make_user("deleted", console=True)), from_report(make_user("kept"))
    )
    iam = LiveIam(mfa=set(), passwords={}, used={})
    # When verified
    verified, calls = verify_candidates(
        iam, inventory, evaluate(inventory, THRESHOLDS, NOW), 1, Deadline.unlimited()
    )
    # Then the user is left out and the rest stays
    assert [user.user_name for user in verified.users] == ["kept"]
    assert calls == 1


def test_a_password_removed_since_the_report_clears_the_console_finding():
    # Given a console user without MFA in the report, whose password was deleted since
    inventory = make_inventory(from_report(make_user("eve", console=True)))
    iam = LiveIam(mfa=set(), passwords={}, used={})
    # When verified
    verified, _ = verify_candidates(
        iam, inventory, evaluate(inventory, THRESHOLDS, NOW), 1, Deadline.unlimited()
    )
    # Then eve has no console access and no finding
    assert (verified.users[0].console_access, evaluate(verified, THRESHOLDS, NOW)) == (False, [])
    assert iam.calls == ["ListMFADevices:eve", "GetLoginProfile:eve"]


def test_live_findings_cost_no_verification():
    # Given findings whose evidence is already live (API path)
    inventory = make_inventory(make_user("frank", console=True), root_keys=True)
    iam = LiveIam(mfa=set(), passwords={}, used={})
    # When verified
    verified, calls = verify_candidates(
        iam, inventory, evaluate(inventory, THRESHOLDS, NOW), 4, Deadline.unlimited()
    )
    # Then nothing was called and nothing changed
    assert (calls, iam.calls, verified) == (0, [], inventory)


def test_each_live_fact_of_a_user_is_read_once_whatever_the_candidates_on_it():
    # Given one user on whom every user rule fires from the report: no MFA, an unused password, an unused
    # key and a never-used one
    user = from_report(
        make_user(
            "all",
            console=True,
            password_used=100,
            keys=(make_key("AKIA1", 200, 60), make_key("AKIA2", 30, None)),
        )
    )
    inventory = make_inventory(user)
    iam = LiveIam(mfa=set(), passwords={"all": days_ago(300)}, used={})
    candidates = [f for f in evaluate(inventory, THRESHOLDS, NOW) if f.user_name == "all"]
    assert len(candidates) >= 4

    # When they are verified
    _, calls = verify_candidates(iam, inventory, candidates, 1, Deadline.unlimited())

    # Then MFA, password use and the login profile are each read once for the user, and each key's last
    # use once: one call per live fact, not per candidate
    assert sorted(iam.calls) == [
        "GetAccessKeyLastUsed:AKIA1",
        "GetAccessKeyLastUsed:AKIA2",
        "GetLoginProfile:all",
        "GetUser:all",
        "ListMFADevices:all",
    ]
    assert calls == 5
