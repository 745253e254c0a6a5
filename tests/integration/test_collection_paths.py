"""The credential-report fast path against the per-user API path, on the same simulated estate."""

from __future__ import annotations

import math
import os
from dataclasses import replace

import pytest

from iam_inventory.compare.finding_codec import finding_entry
from iam_inventory.config.settings import Settings
from iam_inventory.models import CollectionPath, RunResult
from iam_inventory.publish.document import build_report
from iam_inventory.publish.render.schema import report_schema_errors
from iam_inventory_sim import DEMO_EXTERNAL_ID, AccountSpec, Fault, KeySpec, SimRequest, UserSpec
from iam_inventory_sim import expected_findings as planted_findings
from iam_inventory_sim.estate import CODECOMMIT_POLICY, ServiceCredentialSpec, UploadSpec
from tests.integration.conftest import record_requests, scan_in_memory


def estate() -> tuple[AccountSpec, ...]:
    """Every rule planted at least once, two-key users, inactive keys, an account with many users."""
    many = tuple(
        UserSpec(f"svc-{i:03d}", path="/service/", keys=(KeySpec(10 + i % 30, i % 5),) if i % 3 else ())
        for i in range(40)
    )
    return (
        AccountSpec(
            "111111111111",
            "prod",
            users=(
                *many,
                UserSpec(
                    "rotating",
                    keys=(
                        KeySpec(120, 2, expect=frozenset({"access_key_too_old"})),
                        KeySpec(70, None, expect=frozenset({"access_key_never_used"})),
                    ),
                    expect=frozenset({"user_two_active_keys"}),
                ),
                UserSpec(
                    "half-rotated",
                    console=True,
                    mfa=True,
                    keys=(
                        KeySpec(200, 150, active=False, expect=frozenset({"inactive_access_key"})),
                        KeySpec(5, 1),
                    ),
                ),
            ),
        ),
        AccountSpec(
            "222222222222",
            "dev",
            root_access_key=True,
            users=(
                UserSpec("web", console=True, expect=frozenset({"console_user_without_mfa"})),
                UserSpec("idle", keys=(KeySpec(50, 45, expect=frozenset({"access_key_unused"})),)),
                UserSpec("fresh", keys=(KeySpec(7, None),)),
                UserSpec("ghost", keys=(KeySpec(8, None, expect=frozenset({"access_key_never_used"})),)),
                UserSpec("nobody"),
                # A CodeCommit user with an SSH key and a git login, a user with an SSH key but no
                # CodeCommit permission (never read), and one with a signing certificate: none is old.
                UserSpec(
                    "git-dev",
                    inline_policies={"git": CODECOMMIT_POLICY},
                    ssh_keys=(UploadSpec(30),),
                    service_credentials=(ServiceCredentialSpec("codecommit.amazonaws.com", 30),),
                ),
                UserSpec("laptop", ssh_keys=(UploadSpec(20),)),
                UserSpec("soap", signing_certificates=(UploadSpec(20),)),
            ),
        ),
        AccountSpec("333333333333", "empty"),
    )


def run(
    mode: str, run_id: str = "paths", tag_keys: str = "owner,team", accounts: tuple[str, ...] | None = None
) -> RunResult:
    """Scan `accounts` (default: the estate's) with COLLECTION_MODE and USER_TAG_KEYS set, through the
    run's own unit of work (scan_account), and gather the scans as one in-memory run."""
    ids = accounts or tuple(account.account_id for account in estate())
    settings = Settings.from_env(
        {
            **os.environ,
            "ACCOUNT_IDS": ",".join(ids),
            "EXTERNAL_ID": DEMO_EXTERNAL_ID,
            "COLLECTION_MODE": mode,
            "USER_TAG_KEYS": tag_keys,
            "WORKERS": "3",
        }
    )
    return scan_in_memory(settings, run_id, ids)


def comparable(result: RunResult) -> list[dict]:
    """Findings as report.json writes them, without `verified_live` (which says where evidence came from)."""
    return [
        {name: value for name, value in finding_entry(finding, None, True).items() if name != "verified_live"}
        for finding in result.findings
    ]


def test_both_paths_produce_identical_findings(seed):
    # Given an estate with every rule planted
    key_ids = seed(estate())

    # When it is scanned once per collection path
    fast, slow = run("auto"), run("api")

    # Then every account took the path asked for
    assert {r.account.account_id: r.collection_path for r in fast.accounts} == dict.fromkeys(
        ("111111111111", "222222222222", "333333333333"), CollectionPath.CREDENTIAL_REPORT
    )
    assert {r.collection_path for r in slow.accounts} == {CollectionPath.API}

    # And both found exactly the planted findings, identical value for value and in the same order
    found = {(f.account_id, f.user_name, f.access_key_id, f.rule_id) for f in fast.findings}
    assert found == planted_findings(estate(), key_ids)
    assert comparable(fast) == comparable(slow)

    # And the API path's evidence is all live, while the fast path's report-based evidence says so
    assert all(f.verified_live for f in slow.findings)
    assert {f.rule_id for f in fast.findings if not f.verified_live} == {
        "root_access_key_present",
        "console_user_without_mfa",
        "access_key_unused",
        "access_key_never_used",
    }

    # And the inventories agree, apart from the flags that say which data came from the report and the
    # password's change date, which only the report holds (the API path leaves it unknown)
    assert all(
        user.password_changed_at is None for r in slow.accounts if r.inventory for user in r.inventory.users
    )

    def users(result: RunResult) -> list:
        return [
            replace(
                user,
                console_from_report=False,
                password_changed_at=None,
                access_keys=tuple(replace(key, last_use_from_report=False) for key in user.access_keys),
            )
            for r in result.accounts
            if r.inventory
            for user in r.inventory.users
        ]

    assert users(fast) == users(slow)


def test_fast_path_stays_within_its_call_budget_and_records_the_report_time(seed, simulator):
    # Given the estate
    seed(estate())
    simulator.faults.operations.clear()

    ssh_requests = record_requests(simulator, "ListSSHPublicKeys")

    # When it is scanned on the fast path, with routing tags on
    result = run("auto", tag_keys="owner,team")

    # Then each account made, AssumeRole included, and none to verify (this run generated the report):
    #   AssumeRole + GenerateCredentialReport + GetCredentialReport         3
    # + GetAccountAuthorizationDetails, one page per 1,000 users             ceil(users / 1000)
    # + ListServiceSpecificCredentials (AllUsers, every service at once)     ceil(credentials / 1000)
    # + ListAccessKeys, one per user the report shows with keys              users with keys
    # + ListSigningCertificates, one per user the report shows with one      users with certificates
    # + ListSSHPublicKeys, one per user whose policies allow codecommit:*    CodeCommit users
    # (the estate's users have at most 5 SSH keys / 2 certificates: one page each)
    for account, outcome in zip(estate(), result.accounts, strict=True):
        with_keys = sum(1 for user in account.users if user.keys)
        pages = max(1, math.ceil(len(account.users) / 1000))
        credentials = sum(len(user.service_credentials) for user in account.users)
        credential_pages = max(1, math.ceil(credentials / 1000))
        certified = sum(1 for user in account.users if user.signing_certificates)
        codecommit = sum(1 for user in account.users if "git" in user.inline_policies)
        assert outcome.api_calls == (3 + pages + credential_pages + with_keys + certified + codecommit), (
            account.account_id
        )
        assert outcome.verification_calls == 0
        assert outcome.report_generated_at is not None
    prod, dev, _ = result.accounts
    assert (prod.api_calls, dev.api_calls) == (3 + 1 + 1 + 28, 3 + 1 + 1 + 3 + 1 + 1)

    # And no per-user call other than these reached IAM: tags came with the user pages
    iam_operations = {name for name in simulator.faults.operations if name.startswith("iam:")}
    assert iam_operations == {
        "iam:GenerateCredentialReport",
        "iam:GetCredentialReport",
        "iam:GetAccountAuthorizationDetails",
        "iam:ListServiceSpecificCredentials",
        "iam:ListAccessKeys",
        "iam:ListSigningCertificates",
        "iam:ListSSHPublicKeys",
    }
    # And ListSSHPublicKeys was asked about the CodeCommit user only, never the laptop's key
    assert [request.params.get("UserName") for request in ssh_requests] == ["git-dev"]

    # And report.json records the path and the report's time, and still validates
    report = build_report(result)
    assert report_schema_errors(report) == []
    entry = report["accounts"][0]
    assert entry["collection_path"] == "credential_report"
    assert entry["credential_report_generated_at"].endswith("Z")


@pytest.mark.parametrize("operation", ["GenerateCredentialReport", "GetCredentialReport"])
def test_missing_report_permission_falls_back_to_the_api_path(seed, simulator, operation):
    # Given a spoke role (dev) that may not read the credential report
    key_ids = seed(estate())

    def deny(request: SimRequest) -> Fault | None:
        if request.action == operation and request.caller_account == "222222222222":
            return Fault("AccessDenied", f"not authorized to perform: iam:{operation}", status=403)
        return None

    simulator.faults.rules.append(deny)

    # When the estate is scanned in auto mode
    result = run("auto")

    # Then that account alone used the API path, and nothing was lost
    paths = {r.account.account_id: r.collection_path for r in result.accounts}
    assert paths["222222222222"] is CollectionPath.API
    assert paths["111111111111"] is CollectionPath.CREDENTIAL_REPORT
    assert all(r.status.value == "scanned" for r in result.accounts)
    found = {(f.account_id, f.user_name, f.access_key_id, f.rule_id) for f in result.findings}
    assert found == planted_findings(estate(), key_ids)


def test_report_in_progress_is_polled_until_ready(seed, simulator, monkeypatch):
    # Given IAM that says the report is still being generated, twice, after STARTED
    seed(estate()[1:2])
    simulator.credential_reports.in_progress_polls = 2
    monkeypatch.setattr("iam_inventory.collect.credential_report.time.sleep", lambda seconds: None)

    # When that account alone is scanned
    result = run("auto", accounts=("222222222222",))
    (dev,) = result.accounts
    assert dev.account.account_id == "222222222222"

    # Then the fast path waited for the report rather than failing or falling back
    assert dev.collection_path is CollectionPath.CREDENTIAL_REPORT
    assert simulator.faults.operations["iam:GetCredentialReport"] == 3
    assert {f.rule_id for f in result.findings if f.account_id == "222222222222"} == {
        "root_access_key_present",
        "console_user_without_mfa",
        "access_key_unused",
        "access_key_never_used",
    }


def test_an_older_spoke_role_without_authorization_details_falls_back_to_list_users(seed, simulator):
    # Given a spoke role (prod) deployed before iam:GetAccountAuthorizationDetails was granted
    key_ids = seed(estate())

    def deny(request: SimRequest) -> Fault | None:
        if request.action == "GetAccountAuthorizationDetails" and request.caller_account == "111111111111":
            return Fault("AccessDenied", "not authorized to perform: iam:GetAccountAuthorizationDetails", 403)
        return None

    simulator.faults.rules.append(deny)

    # When the estate is scanned
    result = run("auto")

    # Then prod was read with ListUsers (+ ListUserTags), says so, and carries a warning the report shows
    by_id = {r.account.account_id: r for r in result.accounts}
    assert by_id["111111111111"].collection_path is CollectionPath.CREDENTIAL_REPORT_LIST_USERS
    assert by_id["222222222222"].collection_path is CollectionPath.CREDENTIAL_REPORT
    assert "iam:GetAccountAuthorizationDetails" in by_id["111111111111"].warnings[0]
    assert by_id["222222222222"].warnings == ()
    entry = next(a for a in build_report(result)["accounts"] if a["account_id"] == "111111111111")
    assert entry["collection_path"] == "credential_report+list_users"
    assert entry["warnings"] == list(by_id["111111111111"].warnings)

    # And nothing was lost: the same findings as planted
    found = {(f.account_id, f.user_name, f.access_key_id, f.rule_id) for f in result.findings}
    assert found == planted_findings(estate(), key_ids)
    assert simulator.faults.operations["iam:ListUserTags"] == len(estate()[0].users)
