"""A credential report that does not parse costs the account its fast path, never the account.

AWS documents the report's columns but not its CSV quoting, and IAM allows commas in user names. The
simulator serves the report either quoted (csv's minimal quoting, its default) or not at all.
"""

from __future__ import annotations

import base64
import os

import pytest

from iam_inventory.config.settings import Settings
from iam_inventory.models import CollectionPath
from iam_inventory_sim import DEMO_EXTERNAL_ID, AccountSpec, KeySpec, UserSpec, admin_client
from tests.integration.conftest import scan_in_memory

ACCOUNT = "111111111111"
ESTATE = (
    AccountSpec(
        ACCOUNT,
        "prod",
        users=(
            UserSpec("smith,john", console=True),
            UserSpec("ci", keys=(KeySpec(120, 1, expect=frozenset({"access_key_too_old"})),)),
        ),
    ),
)
EXPECTED = {("smith,john", "console_user_without_mfa"), ("ci", "access_key_too_old")}


def run(run_id: str):
    settings = Settings.from_env({**os.environ, "ACCOUNT_IDS": ACCOUNT, "EXTERNAL_ID": DEMO_EXTERNAL_ID})
    return scan_in_memory(settings, run_id, (ACCOUNT,))


def test_a_comma_in_a_user_name_written_unquoted_falls_back_to_the_api_path(seed, simulator):
    # Given a user named "smith,john", and IAM writing the report's fields without quoting
    seed(ESTATE)
    simulator.credential_reports.unquoted = True
    content = admin_client(simulator, "iam", ACCOUNT).generate_credential_report()
    assert content["State"] == "STARTED"
    served = admin_client(simulator, "iam", ACCOUNT).get_credential_report()["Content"]
    text = served.decode() if isinstance(served, bytes) else base64.b64decode(served).decode()
    assert "\nsmith,john,arn:aws:iam::" in text  # the row really is one field longer than the header

    # When the account is scanned
    result = run("unquoted")

    # Then the account is scanned through the API path, says why in a warning, and misses nothing
    (scanned,) = result.accounts
    assert scanned.status.value == "scanned", scanned.error_message
    assert scanned.collection_path is CollectionPath.API
    (warning,) = scanned.warnings
    assert "more fields than its header" in warning
    assert "API path" in warning
    assert {(f.user_name, f.rule_id) for f in result.findings} == EXPECTED


def test_the_same_name_quoted_is_read_from_the_report(seed, simulator):
    # Given the same estate, and IAM quoting the field that holds a comma
    seed(ESTATE)

    # When the account is scanned
    result = run("quoted")

    # Then the report is used, with no warning, and finds the same
    (scanned,) = result.accounts
    assert scanned.collection_path is CollectionPath.CREDENTIAL_REPORT
    assert scanned.warnings == ()
    assert {(f.user_name, f.rule_id) for f in result.findings} == EXPECTED


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        (b"\xff\xfe not utf-8", "does not parse"),
        (b"not,a,report\n1,2,3\n", "no user and arn columns"),
        (
            b"user,arn,user_creation_time\nbob,arn:aws:iam::111111111111:user/bob,yesterday\n",
            "line 2 does not parse",
        ),
    ],
    ids=["bytes", "header", "date"],
)
def test_a_report_that_does_not_parse_never_fails_the_account(seed, simulator, content, cause):
    # Given a report whose bytes, header or a value do not parse
    seed(ESTATE)
    admin_client(simulator, "iam", ACCOUNT).generate_credential_report()
    simulator.credential_reports.reports[ACCOUNT].content = content

    # When the account is scanned
    result = run("garbled")

    # Then it is read through the API path, with a warning naming the cause
    (scanned,) = result.accounts
    assert scanned.status.value == "scanned", scanned.error_message
    assert scanned.collection_path is CollectionPath.API
    (warning,) = scanned.warnings
    assert cause in warning
    assert {(f.user_name, f.rule_id) for f in result.findings} == EXPECTED
