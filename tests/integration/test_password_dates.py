"""When a console password was last set: the report's password_last_changed, or unknown.

GetLoginProfile's CreateDate is when the login profile was created; an admin's reset
(UpdateLoginProfile) leaves it, and no API returns when a password was last changed
(https://github.com/boto/boto3/issues/1243). The simulator keeps the two apart, as IAM does.
"""

from __future__ import annotations

import base64
import csv
import io
import os
from datetime import UTC, datetime, timedelta

import pytest

from iam_inventory.config.settings import Settings
from iam_inventory.models import RunResult
from iam_inventory_sim import (
    DEMO_EXTERNAL_ID,
    AccountSpec,
    Simulator,
    UserSpec,
    admin_client,
    set_password_dates,
)
from tests.builders import NOW
from tests.integration.conftest import scan_in_memory

ACCOUNT = "111111111111"


def run(run_id: str, mode: str = "auto") -> RunResult:
    settings = Settings.from_env(
        {**os.environ, "ACCOUNT_IDS": ACCOUNT, "EXTERNAL_ID": DEMO_EXTERNAL_ID, "COLLECTION_MODE": mode}
    )
    return scan_in_memory(settings, run_id, (ACCOUNT,))


def unused(result: RunResult) -> dict[str, int]:
    return {
        f.user_name or "": f.measured_value for f in result.findings if f.rule_id == "console_password_unused"
    }


def password_last_changed(simulator: Simulator, user: str) -> datetime:
    iam = admin_client(simulator, "iam", ACCOUNT)
    iam.generate_credential_report()
    content = iam.get_credential_report()["Content"]
    text = content.decode() if isinstance(content, bytes) else base64.b64decode(content).decode()
    (row,) = [row for row in csv.DictReader(io.StringIO(text)) if row["user"] == user]
    return datetime.fromisoformat(row["password_last_changed"])


@pytest.mark.parametrize("mode", ["auto", "api"])
def test_an_admin_reset_of_a_never_used_password_is_not_an_old_password(seed, simulator, mode):
    # Given a console user (with MFA) whose login profile was created 200 days ago and never used,
    # then reset by an admin
    seed((AccountSpec(ACCOUNT, "prod", users=(UserSpec("newhire", console=True, mfa=True),)),))
    old = NOW - timedelta(days=200, hours=1)
    set_password_dates(ACCOUNT, "newhire", None, changed_at=old, profile_created_at=old)
    iam = admin_client(simulator, "iam", ACCOUNT)
    iam.update_login_profile(UserName="newhire", Password="Sim-Passw0rd!-reset")
    # (IAM keeps the profile's CreateDate; only the report's password_last_changed moves)
    created = iam.get_login_profile(UserName="newhire")["LoginProfile"]["CreateDate"]
    assert created.astimezone(UTC) == old.replace(microsecond=0)
    if mode == "auto":
        assert password_last_changed(simulator, "newhire") > created

    # When the account is scanned, from the report or through the API
    result = run(f"reset-{mode}", mode)

    # Then the reset password is not reported as 200 days idle on either path
    assert unused(result) == {}
    (scanned,) = result.accounts
    (user,) = scanned.inventory.users if scanned.inventory else ()
    # And the API path says "unknown" rather than taking the profile's creation as the change
    assert (user.password_changed_at is None) is (mode == "api")


@pytest.mark.parametrize(("mode", "expected"), [("auto", {"idle": 100}), ("api", {})])
def test_a_never_used_password_is_measured_from_the_reports_change_date_only(seed, simulator, mode, expected):
    # Given a console user whose password was set 100 days ago and never used
    seed((AccountSpec(ACCOUNT, "prod", users=(UserSpec("idle", console=True, mfa=True),)),))
    set_at = NOW - timedelta(days=100, hours=1)
    set_password_dates(ACCOUNT, "idle", None, changed_at=set_at, profile_created_at=set_at)

    # When scanned
    result = run(f"idle-{mode}", mode)

    # Then the report path measures it from password_last_changed; the API path, with no such date,
    # does not guess (a limit: docs/collection.md)
    assert unused(result) == expected


def test_a_password_set_again_since_a_cached_report_is_not_measured_from_the_report(seed, simulator):
    # Given a never-used password set 100 days ago, reported idle
    seed((AccountSpec(ACCOUNT, "prod", users=(UserSpec("dan", console=True, mfa=True),)),))
    set_at = NOW - timedelta(days=100, hours=1)
    set_password_dates(ACCOUNT, "dan", None, changed_at=set_at, profile_created_at=set_at)
    assert unused(run("before")) == {"dan": 100}
    # and then removed and set again (a new login profile) while the report stays cached
    iam = admin_client(simulator, "iam", ACCOUNT)
    iam.delete_login_profile(UserName="dan")
    iam.create_login_profile(UserName="dan", Password="Sim-Passw0rd!-again")

    # When scanned again on the cached report
    result = run("after")

    # Then verification sees a login profile newer than the report's change date: no finding
    assert unused(result) == {}


def test_verification_keeps_the_reports_change_date_not_the_profiles_creation(seed, simulator):
    # Given a login profile created 200 days ago whose password was reset 100 days ago and never used
    seed((AccountSpec(ACCOUNT, "prod", users=(UserSpec("eve", console=True, mfa=True),)),))
    set_password_dates(
        ACCOUNT,
        "eve",
        None,
        changed_at=NOW - timedelta(days=100, hours=1),
        profile_created_at=NOW - timedelta(days=200, hours=1),
    )
    assert unused(run("before")) == {"eve": 100}

    # When scanned again on the cached report, which verifies the candidate live
    result = run("after")

    # Then it is still measured from the reset (100 days), not from the profile's CreateDate (200)
    assert unused(result) == {"eve": 100}
    (finding,) = result.findings
    assert finding.verified_live
