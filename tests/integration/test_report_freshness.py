"""Findings stay true against a credential report cached the way IAM caches it (up to 4 hours).

Each scenario runs once (the run generates the report), changes the estate as an admin would, and
runs again within 4 hours, when GenerateCredentialReport answers COMPLETE and the report is stale.
"""

from __future__ import annotations

import base64
import csv
import io
import math
import os
from datetime import timedelta

import pytest

from iam_inventory.config.settings import Settings
from iam_inventory.models import AccountResult, RunResult
from iam_inventory_sim import (
    DEMO_EXTERNAL_ID,
    AccountSpec,
    KeySpec,
    Simulator,
    UserSpec,
    admin_client,
    backdate_key,
    set_password_dates,
)
from iam_inventory_sim.estate import CODECOMMIT_POLICY, ServiceCredentialSpec, UploadSpec
from tests.builders import NOW
from tests.integration.conftest import scan_in_memory

ACCOUNT = "111111111111"


def run(run_id: str) -> RunResult:
    """One dry run of the job on the fast path with tags on, against the simulator."""
    settings = Settings.from_env(
        {**os.environ, "ACCOUNT_IDS": ACCOUNT, "EXTERNAL_ID": DEMO_EXTERNAL_ID, "USER_TAG_KEYS": "owner,team"}
    )
    return scan_in_memory(settings, run_id, (ACCOUNT,))


def found(result: RunResult) -> set[tuple[str | None, str | None, str]]:
    return {(f.user_name, f.access_key_id, f.rule_id) for f in result.findings}


def account(result: RunResult) -> AccountResult:
    (only,) = result.accounts
    assert only.status.value == "scanned", only.error_message
    return only


def report_rows(simulator: Simulator) -> dict[str, dict[str, str]]:
    """The credential report IAM currently serves for the account, by user."""
    content = admin_client(simulator, "iam", ACCOUNT).get_credential_report()["Content"]
    text = content.decode() if isinstance(content, bytes) else base64.b64decode(content).decode()
    return {row["user"]: row for row in csv.DictReader(io.StringIO(text))}


def test_the_simulator_serves_the_cached_report_for_4_hours_then_expires_it(seed, simulator):
    # Given an account whose report was generated, then a user created
    seed((AccountSpec(ACCOUNT, "prod", users=(UserSpec("alice"),)),))
    iam = admin_client(simulator, "iam", ACCOUNT)
    assert iam.generate_credential_report()["State"] == "STARTED"
    first = iam.get_credential_report()
    iam.create_user(UserName="late")

    # When asked again within 4 hours
    # Then IAM hands back the same report: COMPLETE, same bytes, same GeneratedTime
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    again = iam.get_credential_report()
    assert (again["Content"], again["GeneratedTime"]) == (first["Content"], first["GeneratedTime"])
    assert "late" not in report_rows(simulator)

    # And once the report is 4 hours old, GetCredentialReport says ReportExpired and a new one starts
    simulator.clock.advance(timedelta(hours=4))
    with pytest.raises(iam.exceptions.CredentialReportExpiredException):
        iam.get_credential_report()
    assert iam.generate_credential_report()["State"] == "STARTED"
    assert "late" in report_rows(simulator)


def test_two_keys_created_in_the_same_second_each_get_their_own_last_use(seed, simulator):
    # Given a user with two keys created in the same second: one used yesterday, one never used
    key_ids = seed(
        (AccountSpec(ACCOUNT, "prod", users=(UserSpec("twins", keys=(KeySpec(30), KeySpec(30))),)),)
    )
    used, unused = key_ids[(ACCOUNT, "twins", 0)], key_ids[(ACCOUNT, "twins", 1)]
    created = NOW - timedelta(days=30, hours=1)
    backdate_key(ACCOUNT, "twins", used, created, last_used_at=NOW - timedelta(days=1))
    backdate_key(ACCOUNT, "twins", unused, created)

    # When the account is scanned
    result = run("twins")

    # Then only the never-used key is named, and both last uses were read with GetAccessKeyLastUsed
    assert found(result) == {
        ("twins", unused, "access_key_never_used"),
        ("twins", None, "user_two_active_keys"),
    }
    assert simulator.faults.operations["iam:GetAccessKeyLastUsed"] == 2
    (never_used,) = [f for f in result.findings if f.rule_id == "access_key_never_used"]
    assert (never_used.measured_value, never_used.threshold, never_used.verified_live) == (30, 7, True)


def test_a_newer_key_in_slot_1_is_matched_by_creation_time_not_slot_order(seed, simulator):
    # Given a user whose first key was deleted and replaced after the last report
    key_ids = seed(
        (AccountSpec(ACCOUNT, "prod", users=(UserSpec("rotor", keys=(KeySpec(200, 1), KeySpec(100, 2))),)),)
    )
    run("before")
    iam = admin_client(simulator, "iam", ACCOUNT)
    iam.delete_access_key(UserName="rotor", AccessKeyId=key_ids[(ACCOUNT, "rotor", 0)])
    newer = iam.create_access_key(UserName="rotor")["AccessKey"]["AccessKeyId"]
    backdate_key(ACCOUNT, "rotor", newer, NOW - timedelta(days=20, hours=1))
    older = key_ids[(ACCOUNT, "rotor", 1)]

    # When the report is regenerated (4 hours on) and the account scanned
    simulator.clock.advance(timedelta(hours=4, minutes=1))
    result = run("after")

    # Then the report holds the newer key in slot 1, and each key carries its own last use
    row = report_rows(simulator)["rotor"]
    assert row["access_key_1_last_rotated"].startswith(
        (NOW - timedelta(days=20, hours=1)).strftime("%Y-%m-%dT%H")
    )
    assert found(result) == {
        ("rotor", newer, "access_key_never_used"),
        ("rotor", None, "user_two_active_keys"),
        ("rotor", older, "access_key_too_old"),
    }
    assert account(result).verification_calls == 0
    assert simulator.faults.operations["iam:GetAccessKeyLastUsed"] == 0


def test_a_key_rotated_since_the_report_is_read_live(seed, simulator):
    # Given a 120-day-old key reported too old, then rotated: a new key (10 days old, never used)
    key_ids = seed((AccountSpec(ACCOUNT, "prod", users=(UserSpec("ci", keys=(KeySpec(120, 1),)),)),))
    old = key_ids[(ACCOUNT, "ci", 0)]
    assert found(run("before")) == {("ci", old, "access_key_too_old")}
    iam = admin_client(simulator, "iam", ACCOUNT)
    new = iam.create_access_key(UserName="ci")["AccessKey"]["AccessKeyId"]
    backdate_key(ACCOUNT, "ci", new, NOW - timedelta(days=10, hours=1))
    iam.delete_access_key(UserName="ci", AccessKeyId=old)

    # When scanned again while the report is cached
    result = run("after")

    # Then the old key's finding is gone and the new key (absent from the report) was read live
    assert found(result) == {("ci", new, "access_key_never_used")}
    assert all(f.verified_live for f in result.findings)


def test_a_users_first_key_created_after_the_report_is_found(seed, simulator):
    # Given a keyless user at report time, who then gets a key (30 days old, last used 60 days ago)
    seed((AccountSpec(ACCOUNT, "prod", users=(UserSpec("late", tags={"owner": "ops@example.com"}),)),))
    assert found(run("before")) == set()
    key = admin_client(simulator, "iam", ACCOUNT).create_access_key(UserName="late")["AccessKey"][
        "AccessKeyId"
    ]
    backdate_key(
        ACCOUNT, "late", key, NOW - timedelta(days=30, hours=1), last_used_at=NOW - timedelta(days=60)
    )

    # When scanned again while the report is cached
    result = run("after")

    # Then the key is inventoried and flagged, with the user's tags, from live data
    (finding,) = result.findings
    assert (finding.user_name, finding.access_key_id, finding.rule_id) == ("late", key, "access_key_unused")
    assert (finding.measured_value, finding.threshold, finding.verified_live) == (60, 45, True)
    assert finding.tags == {"owner": "ops@example.com"}


def test_a_user_deleted_since_the_report_drops_out_and_never_fails_the_account(seed, simulator):
    # Given a console user without MFA, reported, then deleted
    seed(
        (
            AccountSpec(
                ACCOUNT, "prod", users=(UserSpec("ghost", console=True, tags={"team": "x"}), UserSpec("stay"))
            ),
        )
    )
    assert found(run("before")) == {("ghost", None, "console_user_without_mfa")}
    iam = admin_client(simulator, "iam", ACCOUNT)
    iam.delete_login_profile(UserName="ghost")
    iam.delete_user(UserName="ghost")

    # When scanned again while the report (which still lists ghost) is cached
    assert "ghost" in report_rows(simulator)
    result = run("after")

    # Then the account is scanned, ghost is not in the inventory, and nothing is reported for it
    inventory = account(result).inventory
    assert inventory is not None
    assert [user.user_name for user in inventory.users] == ["stay"]
    assert found(result) == set()


def test_mfa_enabled_since_the_report_is_not_flagged(seed, simulator):
    # Given bob, a console user without MFA in the report, who then enables MFA; carol never does
    users = (UserSpec("bob", console=True), UserSpec("carol", console=True))
    seed((AccountSpec(ACCOUNT, "prod", users=users),))
    assert found(run("before")) == {
        ("bob", None, "console_user_without_mfa"),
        ("carol", None, "console_user_without_mfa"),
    }
    iam = admin_client(simulator, "iam", ACCOUNT)
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="bob-mfa")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(
        UserName="bob", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    simulator.faults.operations.clear()

    # When scanned again while the report is cached
    result = run("after")

    # Then bob is not flagged; carol is, confirmed live (ListMFADevices, then GetLoginProfile)
    (finding,) = result.findings
    assert (finding.user_name, finding.rule_id, finding.verified_live) == (
        "carol",
        "console_user_without_mfa",
        True,
    )
    assert (finding.measured_value, finding.threshold) == (0, 1)
    assert (
        account(result).verification_calls == 3
    )  # bob: ListMFADevices; carol: ListMFADevices + GetLoginProfile
    assert simulator.faults.operations["iam:ListMFADevices"] == 2
    assert simulator.faults.operations["iam:GetLoginProfile"] == 1


def test_a_password_used_since_the_report_is_not_flagged_unused(seed, simulator):
    # Given dan's password last used 100 days ago in the report, who then signs in
    seed((AccountSpec(ACCOUNT, "prod", users=(UserSpec("dan", console=True, mfa=True),)),))
    set_password_dates(ACCOUNT, "dan", NOW - timedelta(days=100))
    (before,) = run("before").findings
    assert (before.rule_id, before.measured_value, before.threshold, before.verified_live) == (
        "console_password_unused",
        100,
        45,
        False,
    )
    set_password_dates(ACCOUNT, "dan", NOW - timedelta(hours=2))

    # When scanned again while the report is cached
    result = run("after")

    # Then GetUser's PasswordLastUsed clears the candidate
    assert found(result) == set()
    assert account(result).verification_calls == 2  # GetUser + GetLoginProfile


def test_call_budget_with_tags_on_fresh_then_cached_then_regenerated(seed, simulator):
    # Given an account with users with and without keys, tags, report-based candidates, a CodeCommit user
    # with an SSH key and a git login, an SSH key on a user without CodeCommit, and a signing certificate
    users = (
        *(UserSpec(f"svc-{i:02d}", keys=(KeySpec(10, 1),), tags={"owner": "svc"}) for i in range(12)),
        *(UserSpec(f"human-{i}", console=True, mfa=True) for i in range(5)),
        UserSpec("stale", keys=(KeySpec(60, 50),)),  # unused: a key candidate
        UserSpec("never", keys=(KeySpec(30, None),)),  # never used: a key candidate
        UserSpec("nomfa", console=True),  # console without MFA: a user candidate
        UserSpec(
            "git-dev",
            inline_policies={"git": CODECOMMIT_POLICY},
            ssh_keys=(UploadSpec(30),),
            service_credentials=(ServiceCredentialSpec("codecommit.amazonaws.com", 30),),
        ),
        UserSpec("laptop", ssh_keys=(UploadSpec(30),)),  # no CodeCommit permission: its key is not read
        UserSpec("soap", signing_certificates=(UploadSpec(30),)),
    )
    seed((AccountSpec(ACCOUNT, "prod", users=users),))
    with_keys = sum(1 for user in users if user.keys)
    pages = math.ceil(len(users) / 1000)
    # One ListServiceSpecificCredentials (AllUsers=true, every service, up to 1,000 per page), one
    # ListSigningCertificates per user the report shows with a certificate, one ListSSHPublicKeys per user
    # whose policies allow a codecommit: action
    other = 1 + 1 + 1

    # When the run generates the report
    fresh = account(run("fresh"))
    # Then: AssumeRole + Generate + Get + user pages + one ListAccessKeys per user with keys + the other
    # credentials' calls, nothing else
    assert fresh.api_calls == 3 + pages + with_keys + other
    assert fresh.verification_calls == 0

    # When a run finds the report cached (it predates the run)
    cached = account(run("cached"))
    # Then every user's keys are listed (keys may be newer than the report) and each candidate is verified:
    # two GetAccessKeyLastUsed, ListMFADevices + GetLoginProfile for nomfa; the certificate shown in the
    # report is re-listed live as on every run (ListSigningCertificates is already a live read)
    assert cached.verification_calls == 4
    assert cached.api_calls == 3 + pages + len(users) + other + cached.verification_calls

    # When the report is more than 4 hours old
    simulator.clock.advance(timedelta(hours=4, seconds=1))
    regenerated = account(run("regenerated"))
    # Then GenerateCredentialReport starts a new report (STARTED), and the run pays what a fresh one does
    assert regenerated.verification_calls == 0
    assert regenerated.api_calls == fresh.api_calls
    assert regenerated.report_generated_at - cached.report_generated_at >= timedelta(hours=4)


@pytest.mark.parametrize(
    ("lag", "trusted"),
    [
        (timedelta(0), True),
        (timedelta(minutes=4), True),
        (timedelta(minutes=6), False),
        (timedelta(hours=3), False),
    ],
    ids=["dated now", "within the clock skew", "beyond the clock skew", "hours old"],
)
def test_a_started_report_counts_as_this_runs_only_when_dated_since_the_run_began(
    seed, simulator, lag, trusted
):
    # Given a console user without MFA, and IAM answering STARTED with a report dated `lag` before the run
    seed((AccountSpec(ACCOUNT, "prod", users=(UserSpec("bob", console=True),)),))
    simulator.credential_reports.generated_time_lag = lag

    # When the account is scanned
    result = run("lagging")

    # Then the report is this run's (nothing verified) only when dated at or after the run's start, less
    # the 5-minute clock skew; otherwise its candidate is confirmed live, as for a cached report
    assert simulator.faults.operations["iam:GenerateCredentialReport"] == 1
    assert found(result) == {("bob", None, "console_user_without_mfa")}
    (finding,) = result.findings
    assert finding.verified_live is not trusted
    assert (account(result).verification_calls > 0) is not trusted
