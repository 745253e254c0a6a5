"""Root credentials deleted centrally (AWS Organizations) are a state to show, never a finding.

"Delete root user credentials" leaves a member account's root with no password, access keys, signing
certificates or MFA. The credential report's root row then reads like any root without MFA
(password_enabled is always not_supported for root), so only GetAccountSummary's AccountPasswordPresent
tells whether root can sign in.
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#id_root-user-access-management
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountSummary.html
"""

from __future__ import annotations

import os

import pytest

from iam_inventory.config.settings import Settings
from iam_inventory.models import AccountInventory, RunResult
from iam_inventory_sim import DEMO_EXTERNAL_ID, AccountSpec, UserSpec, admin_client, set_root_credentials
from tests.integration.conftest import scan_in_memory

ACCOUNT = "111111111111"
ROOT_RULES = {"root_mfa_disabled", "root_access_key_present"}


def run(run_id: str, mode: str = "auto") -> RunResult:
    settings = Settings.from_env(
        {**os.environ, "ACCOUNT_IDS": ACCOUNT, "EXTERNAL_ID": DEMO_EXTERNAL_ID, "COLLECTION_MODE": mode}
    )
    return scan_in_memory(settings, run_id, (ACCOUNT,))


def inventory(result: RunResult) -> AccountInventory:
    (scanned,) = result.accounts
    assert scanned.status.value == "scanned", scanned.error_message
    assert scanned.inventory is not None
    return scanned.inventory


def root_findings(result: RunResult) -> set[str]:
    return {finding.rule_id for finding in result.findings if finding.rule_id in ROOT_RULES}


@pytest.mark.parametrize("mode", ["auto", "api"])
def test_a_root_whose_credentials_were_removed_centrally_has_no_root_finding(seed, simulator, mode):
    # Given a member account whose root credentials were deleted by the organization
    seed((AccountSpec(ACCOUNT, "member", root_credentials_removed=True, users=(UserSpec("alice"),)),))
    iam = admin_client(simulator, "iam", ACCOUNT)
    summary = iam.get_account_summary()["SummaryMap"]
    assert [summary[key] for key in ("AccountPasswordPresent", "AccountMFAEnabled")] == [0, 0]
    simulator.faults.operations.clear()

    # When the account is scanned, from the report or through the API
    result = run(f"removed-{mode}", mode)

    # Then root raises nothing, and the inventory says its credentials are removed, read live
    assert root_findings(result) == set()
    scanned = inventory(result)
    assert scanned.root_credentials_removed
    assert (scanned.root_password_present, scanned.root_mfa_enabled) == (False, False)
    assert not scanned.root_from_report
    assert simulator.faults.operations["iam:GetAccountSummary"] == 1


@pytest.mark.parametrize("mode", ["auto", "api"])
def test_a_root_that_can_sign_in_without_mfa_is_still_critical(seed, simulator, mode):
    # Given a root with a password and no MFA
    seed((AccountSpec(ACCOUNT, "standalone", root_mfa=False),))

    # When the account is scanned
    result = run(f"password-{mode}", mode)

    # Then root_mfa_disabled is raised, from the live summary, and nothing is called removed
    assert root_findings(result) == {"root_mfa_disabled"}
    (finding,) = result.findings
    assert finding.verified_live
    scanned = inventory(result)
    assert (scanned.root_password_present, scanned.root_credentials_removed) == (True, False)


def test_a_root_with_a_key_but_no_password_is_flagged_for_the_key_only(seed, simulator):
    # Given a root with no password and no MFA, but an access key left behind
    seed((AccountSpec(ACCOUNT, "half", root_mfa=False, root_password=False, root_access_key=True),))

    # When the account is scanned
    result = run("key-only")

    # Then the key is critical, MFA is not asked of a root that cannot sign in, and root is not "removed"
    assert root_findings(result) == {"root_access_key_present"}
    scanned = inventory(result)
    assert (scanned.root_password_present, scanned.root_credentials_removed) == (False, False)


def test_a_root_with_mfa_costs_no_account_summary_on_the_report_path(seed, simulator):
    # Given a root with MFA (the report's root row says so)
    seed((AccountSpec(ACCOUNT, "guarded"),))

    # When the account is scanned from a report this run generated
    result = run("guarded")

    # Then root comes from the report alone: its password is not read, since no rule needs it
    assert root_findings(result) == set()
    scanned = inventory(result)
    assert scanned.root_from_report
    assert (scanned.root_password_present, scanned.root_credentials_removed) == (None, False)
    assert simulator.faults.operations["iam:GetAccountSummary"] == 0


def test_root_credentials_removed_after_the_report_are_seen_live(seed, simulator):
    # Given a root without MFA, reported critical, whose credentials the organization then deletes
    seed((AccountSpec(ACCOUNT, "member", root_mfa=False),))
    assert root_findings(run("before")) == {"root_mfa_disabled"}
    set_root_credentials(ACCOUNT, access_key=False, mfa=False, removed=True)

    # When scanned again while the report (root without MFA) is still cached
    result = run("after")

    # Then the finding is gone, and the inventory says the credentials are removed
    assert simulator.faults.operations["iam:GenerateCredentialReport"] == 2  # STARTED, then COMPLETE
    assert root_findings(result) == set()
    assert inventory(result).root_credentials_removed
