"""A key deleted between ListAccessKeys and GetAccessKeyLastUsed is dropped, never the account.

The GetAccessKeyLastUsed reference names no error for a key that no longer exists. moto (and so the
simulator) answers NoSuchEntity; IAM may instead answer AccessDenied, since it authorizes the call
against the key's owner. Each test deletes the key at the moment its last use is asked for, and answers
one way or the other.
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccessKeyLastUsed.html
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from iam_inventory.config.settings import Settings
from iam_inventory.models import RunResult
from iam_inventory_sim import DEMO_EXTERNAL_ID, AccountSpec, Fault, KeySpec, SimRequest, UserSpec
from tests.integration.conftest import scan_in_memory

ACCOUNT = "111111111111"
# ci's first key is too old (it would be flagged), its second is healthy.
ESTATE = (AccountSpec(ACCOUNT, "prod", users=(UserSpec("ci", keys=(KeySpec(200, 1), KeySpec(10, 1))),)),)


def run(run_id: str, mode: str) -> RunResult:
    settings = Settings.from_env(
        {**os.environ, "ACCOUNT_IDS": ACCOUNT, "EXTERNAL_ID": DEMO_EXTERNAL_ID, "COLLECTION_MODE": mode}
    )
    return scan_in_memory(settings, run_id, (ACCOUNT,))


def denied(key_id: str) -> Fault:
    return Fault(
        "AccessDenied",
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/IAMListRole/run is not authorized to perform: "
        f"iam:GetAccessKeyLastUsed on resource: access key {key_id}",
        status=403,
    )


def deleted_when_asked(key_id: str, answer: str, delete: bool = True) -> Callable[[SimRequest], Fault | None]:
    """A fault rule: when the key's last use is asked for, delete the key first, then answer `answer`."""
    from moto.iam.models import iam_backends

    def rule(request: SimRequest) -> Fault | None:
        if request.action != "GetAccessKeyLastUsed" or request.params.get("AccessKeyId") != key_id:
            return None
        user = iam_backends[ACCOUNT]["aws"].users["ci"]
        if delete and any(key.access_key_id == key_id for key in user.access_keys):
            iam_backends[ACCOUNT]["aws"].delete_access_key(key_id, "ci")
        return denied(key_id) if answer == "AccessDenied" else None  # None: moto answers NoSuchEntity

    return rule


@pytest.mark.parametrize("answer", ["NoSuchEntity", "AccessDenied"])
def test_a_key_deleted_mid_scan_is_dropped_on_the_api_path(seed, simulator, answer):
    # Given a user with two keys, the old one deleted just as its last use is asked for
    key_ids = seed(ESTATE)
    old, kept = key_ids[(ACCOUNT, "ci", 0)], key_ids[(ACCOUNT, "ci", 1)]
    simulator.faults.rules.append(deleted_when_asked(old, answer))

    # When the account is read through the API path
    result = run(f"api-{answer}", "api")

    # Then the account is scanned, the deleted key is gone from the inventory and raises nothing
    (scanned,) = result.accounts
    assert scanned.status.value == "scanned", scanned.error_message
    assert scanned.inventory is not None
    (ci,) = scanned.inventory.users
    assert [key.access_key_id for key in ci.access_keys] == [kept]
    assert result.findings == []
    # And AccessDenied (ambiguous) re-listed ci's keys once to see the key gone; NoSuchEntity did not need to
    assert simulator.faults.operations["iam:ListAccessKeys"] == (2 if answer == "AccessDenied" else 1)


def test_a_key_deleted_while_a_cached_report_is_verified_is_dropped(seed, simulator):
    # Given a key reported too old and unused 60 days; the report is then cached for the next run
    seed((AccountSpec(ACCOUNT, "prod", users=(UserSpec("ci", keys=(KeySpec(200, 60),)),)),))
    first = run("before", "auto")
    ((key_id, rules),) = {
        (f.access_key_id, f.rule_id) for f in first.findings if f.rule_id == "access_key_unused"
    }
    assert rules == "access_key_unused"
    simulator.faults.rules.append(deleted_when_asked(key_id, "AccessDenied"))

    # When the next run verifies the unused key live and it is deleted right then
    result = run("after", "auto")

    # Then nothing is reported for it and the account is scanned
    (scanned,) = result.accounts
    assert scanned.status.value == "scanned", scanned.error_message
    assert scanned.verification_calls >= 1
    assert result.findings == []


def test_access_denied_on_a_key_that_still_exists_is_a_real_denial(seed, simulator):
    # Given a key IAM refuses to describe although it is still listed (a deny on that user, say)
    key_ids = seed(ESTATE)
    simulator.faults.rules.append(
        deleted_when_asked(key_ids[(ACCOUNT, "ci", 0)], "AccessDenied", delete=False)
    )

    # When the account is read through the API path
    result = run("denied", "api")

    # Then the key is not guessed "never used": the account fails with the denial, named
    (failed,) = result.accounts
    assert (failed.status.value, failed.error_code) == ("failed", "AccessDenied")
    assert "GetAccessKeyLastUsed" in (failed.error_message or "")
