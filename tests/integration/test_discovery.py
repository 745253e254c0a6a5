"""Account discovery through AWS Organizations (moto): nested OUs, tags, a suspended account, filters."""

from __future__ import annotations

import json
import re

import boto3
import pytest

from iam_inventory.assume.clients import ClientFactory
from iam_inventory.config.settings import Settings
from iam_inventory.discover.accounts import discover_accounts
from iam_inventory.discover.discovery import DiscoveryError
from iam_inventory.entrypoints import handlers as handler
from iam_inventory_sim import (
    DEMO_EXTERNAL_ID,
    HUB_ACCOUNT_ID,
    AccountSpec,
    Fault,
    KeySpec,
    UserSpec,
    seed_organization,
)
from iam_inventory_sim.estate import spoke_trust_policy
from tests.builders import NOW
from tests.cfn_template import hub_statement, load_hub_template
from tests.integration.conftest import emf_blobs, list_s3_keys, read_s3_json

HUB = HUB_ACCOUNT_ID
PROD_A, PROD_DATA, DEV, SANDBOX, CLOSED, NO_ROLE, AT_ROOT = (
    "111111111111",
    "222222222222",
    "333333333333",
    "444444444444",
    "555555555555",
    "666666666666",
    "777777777777",
)


def organization() -> tuple[AccountSpec, ...]:
    """Root: hub, AT_ROOT; Workloads/{Prod/{Data}, Dev}; Sandbox. One suspended, one without the role."""
    return (
        AccountSpec(
            PROD_A,
            "prod-a",
            ou="Workloads/Prod",
            tags={"env": "prod", "team": "payments"},
            users=(UserSpec("old", keys=(KeySpec(200, 1, expect=frozenset({"access_key_too_old"})),)),),
        ),
        AccountSpec(PROD_DATA, "prod-data", ou="Workloads/Prod/Data", tags={"env": "prod", "team": "data"}),
        AccountSpec(DEV, "dev", ou="Workloads/Dev", tags={"env": "dev"}),
        AccountSpec(SANDBOX, "sandbox", ou="Sandbox", tags={"env": "sandbox"}),
        AccountSpec(CLOSED, "closed", ou="Workloads/Prod", tags={"env": "prod"}, state="SUSPENDED"),
        AccountSpec(NO_ROLE, "no-role", ou="Workloads/Dev", tags={"env": "dev"}, role="missing"),
        AccountSpec(AT_ROOT, "at-root"),
    )


@pytest.fixture
def ou_ids(simulator) -> dict[str, str]:
    """The organization seeded; OU ids by path ("" is the root)."""
    return seed_organization(simulator.endpoint, organization())


def discover(env: dict[str, str]):
    settings = Settings.from_env({"ACCOUNT_SOURCE": "organizations", **env})
    return discover_accounts(settings, None, ClientFactory(settings))


def resolve(env: dict[str, str], ou_ids: dict[str, str]) -> dict[str, str]:
    """Replace {OU/path} placeholders ({Root} for the root) with the seeded OU ids."""
    ids = {"Root": ou_ids[""], **ou_ids}
    return {name: re.sub(r"\{([^}]*)\}", lambda m: ids[m.group(1)], value) for name, value in env.items()}


# (filter settings, accounts to scan, skipped account -> reason code). OUs are written as {path}.
FILTER_CASES = {
    "no filters: every account, the hub and the suspended one skipped": (
        {},
        {PROD_A, PROD_DATA, DEV, SANDBOX, NO_ROLE, AT_ROOT},
        {HUB: "HubAccount", CLOSED: "AccountNotActive"},
    ),
    "hub scanned when configured": (
        {"SCAN_HUB_ACCOUNT": "true"},
        {HUB, PROD_A, PROD_DATA, DEV, SANDBOX, NO_ROLE, AT_ROOT},
        {CLOSED: "AccountNotActive"},
    ),
    "include an OU: its nested OUs too, nothing outside it": (
        {"INCLUDE_OUS": "{Workloads}"},
        {PROD_A, PROD_DATA, DEV, NO_ROLE},
        {CLOSED: "AccountNotActive"},
    ),
    "include a nested OU": (
        {"INCLUDE_OUS": "{Workloads/Prod}"},
        {PROD_A, PROD_DATA},
        {CLOSED: "AccountNotActive"},
    ),
    "include overlapping OUs: each account once": (
        {"INCLUDE_OUS": "{Workloads/Prod/Data},{Workloads},{Workloads/Prod}"},
        {PROD_A, PROD_DATA, DEV, NO_ROLE},
        {CLOSED: "AccountNotActive"},
    ),
    "include the root by id": (
        {"INCLUDE_OUS": "{Root}", "SCAN_HUB_ACCOUNT": "true"},
        {HUB, PROD_A, PROD_DATA, DEV, SANDBOX, NO_ROLE, AT_ROOT},
        {CLOSED: "AccountNotActive"},
    ),
    "include an OU, exclude a nested one": (
        {"INCLUDE_OUS": "{Workloads}", "EXCLUDE_OUS": "{Workloads/Prod/Data}"},
        {PROD_A, DEV, NO_ROLE},
        {PROD_DATA: "ExcludedOU", CLOSED: "AccountNotActive"},
    ),
    "exclude OUs from the whole organization": (
        {"EXCLUDE_OUS": "{Workloads} {Sandbox}"},
        {AT_ROOT},
        {
            HUB: "HubAccount",
            PROD_A: "ExcludedOU",
            PROD_DATA: "ExcludedOU",
            DEV: "ExcludedOU",
            SANDBOX: "ExcludedOU",
            CLOSED: "ExcludedOU",
            NO_ROLE: "ExcludedOU",
        },
    ),
    "exclude accounts": (
        {"EXCLUDE_ACCOUNTS": f"{PROD_A},{AT_ROOT}"},
        {PROD_DATA, DEV, SANDBOX, NO_ROLE},
        {
            PROD_A: "ExcludedAccount",
            AT_ROOT: "ExcludedAccount",
            HUB: "HubAccount",
            CLOSED: "AccountNotActive",
        },
    ),
    "include by tag": (
        {"INCLUDE_ACCOUNT_TAGS": "env=prod"},
        {PROD_A, PROD_DATA},
        {
            HUB: "NotIncludedByTag",
            DEV: "NotIncludedByTag",
            SANDBOX: "NotIncludedByTag",
            NO_ROLE: "NotIncludedByTag",
            AT_ROOT: "NotIncludedByTag",
            CLOSED: "AccountNotActive",
        },
    ),
    "include by any of several tags": (
        {"INCLUDE_ACCOUNT_TAGS": "team=data, env=sandbox"},
        {PROD_DATA, SANDBOX},
        {
            HUB: "NotIncludedByTag",
            PROD_A: "NotIncludedByTag",
            DEV: "NotIncludedByTag",
            NO_ROLE: "NotIncludedByTag",
            AT_ROOT: "NotIncludedByTag",
            CLOSED: "NotIncludedByTag",
        },
    ),
    "exclude by tag": (
        {"EXCLUDE_ACCOUNT_TAGS": "env=dev,env=sandbox"},
        {PROD_A, PROD_DATA, AT_ROOT},
        {
            DEV: "ExcludedByTag",
            NO_ROLE: "ExcludedByTag",
            SANDBOX: "ExcludedByTag",
            HUB: "HubAccount",
            CLOSED: "AccountNotActive",
        },
    ),
    "include and exclude by tag: exclusion wins": (
        {"INCLUDE_ACCOUNT_TAGS": "env=prod", "EXCLUDE_ACCOUNT_TAGS": "team=data"},
        {PROD_A},
        {
            PROD_DATA: "ExcludedByTag",
            HUB: "NotIncludedByTag",
            DEV: "NotIncludedByTag",
            SANDBOX: "NotIncludedByTag",
            NO_ROLE: "NotIncludedByTag",
            AT_ROOT: "NotIncludedByTag",
            CLOSED: "AccountNotActive",
        },
    ),
    "every filter at once": (
        {
            "INCLUDE_OUS": "{Workloads}",
            "EXCLUDE_OUS": "{Workloads/Prod/Data}",
            "EXCLUDE_ACCOUNTS": DEV,
            "INCLUDE_ACCOUNT_TAGS": "env=dev,env=prod",
            "EXCLUDE_ACCOUNT_TAGS": "team=payments",
        },
        {NO_ROLE},
        {
            DEV: "ExcludedAccount",
            PROD_DATA: "ExcludedOU",
            PROD_A: "ExcludedByTag",
            CLOSED: "AccountNotActive",
        },
    ),
}


@pytest.mark.parametrize(("env", "to_scan", "skipped"), FILTER_CASES.values(), ids=FILTER_CASES.keys())
def test_filters_select_exactly_the_expected_accounts(ou_ids, env, to_scan, skipped):
    # Given the organization and the filter settings
    # When accounts are discovered
    discovery = discover(resolve(env, ou_ids))
    # Then exactly these are scanned, exactly these skipped (with the reason), none twice
    scanned_ids = [account.account_id for account in discovery.to_scan]
    assert set(scanned_ids) == to_scan
    assert {result.account.account_id: result.error_code for result in discovery.skipped} == skipped
    assert len(scanned_ids) == len(set(scanned_ids))
    assert all(result.status == "skipped" and result.error_message for result in discovery.skipped)


def test_accounts_carry_name_and_ou_path(ou_ids):
    discovery = discover({"SCAN_HUB_ACCOUNT": "true"})
    by_id = {account.account_id: account for account in discovery.to_scan}
    by_id.update({result.account.account_id: result.account for result in discovery.skipped})
    assert {account_id: (a.name, a.ou_path) for account_id, a in by_id.items()} == {
        HUB: ("security-hub", "Root"),
        AT_ROOT: ("at-root", "Root"),
        PROD_A: ("prod-a", "Root/Workloads/Prod"),
        CLOSED: ("closed", "Root/Workloads/Prod"),
        PROD_DATA: ("prod-data", "Root/Workloads/Prod/Data"),
        DEV: ("dev", "Root/Workloads/Dev"),
        NO_ROLE: ("no-role", "Root/Workloads/Dev"),
        SANDBOX: ("sandbox", "Root/Sandbox"),
    }


def test_ou_path_is_the_full_path_when_discovery_starts_below_the_root(ou_ids):
    discovery = discover(resolve({"INCLUDE_OUS": "{Workloads/Prod/Data}"}, ou_ids))
    assert [(a.account_id, a.ou_path) for a in discovery.to_scan] == [(PROD_DATA, "Root/Workloads/Prod/Data")]


def test_tags_are_read_only_when_a_tag_filter_or_an_owner_tag_is_set(simulator, ou_ids):
    # Given no owner tag keys (OWNER_TAG_KEYS=none) and no tag filter, then a tag filter
    simulator.faults.operations.clear()
    discover({"OWNER_TAG_KEYS": "none"})
    # Then no tag is read without a filter, and each account's tags once with one
    assert simulator.faults.operations["organizations:ListTagsForResource"] == 0
    discover({"EXCLUDE_ACCOUNT_TAGS": "env=dev", "OWNER_TAG_KEYS": "none"})
    assert simulator.faults.operations["organizations:ListTagsForResource"] == 8


def test_owner_tags_alone_are_read_only_for_the_accounts_to_scan(simulator, ou_ids):
    # Given owner tag keys and no tag filter
    simulator.faults.operations.clear()
    # When discovery runs
    found = discover({"OWNER_TAG_KEYS": "team"})
    # Then tags are read for the scanned accounts only, not for the hub or suspended ones it skips
    assert found.skipped
    assert simulator.faults.operations["organizations:ListTagsForResource"] == len(found.to_scan)
    assert {account.account_id: account.tags for account in found.to_scan}[PROD_A] == {"team": "payments"}


def test_scanned_accounts_keep_their_owner_tags_read_once(simulator, ou_ids):
    # Given the owner tag keys "team" and a tag filter (both need the tags)
    simulator.faults.operations.clear()
    # When discovery runs
    found = discover({"OWNER_TAG_KEYS": "team", "EXCLUDE_ACCOUNT_TAGS": "env=sandbox"})
    # Then each account's tags are read once, and scanned accounts keep only the owner tag
    assert simulator.faults.operations["organizations:ListTagsForResource"] == 8
    tags = {account.account_id: account.tags for account in found.to_scan}
    assert tags[PROD_A] == {"team": "payments"}
    assert tags[PROD_DATA] == {"team": "data"}
    assert tags[DEV] == {}


def test_hub_role_grants_exactly_the_organizations_calls_discovery_makes(simulator, ou_ids):
    # Given discovery run through every Organizations code path: the root walk, an OU below the root
    # (its path is looked up), and a tag filter
    simulator.faults.operations.clear()  # forget the seeding calls
    discover({})
    discover(resolve({"INCLUDE_OUS": "{Workloads/Prod/Data}", "INCLUDE_ACCOUNT_TAGS": "env=prod"}, ou_ids))
    called = {
        operation for operation in simulator.faults.operations if operation.startswith("organizations:")
    }
    # Then the hub template grants exactly those actions
    granted = set(hub_statement(load_hub_template(), "DiscoverOrganizationAccounts")["Action"])
    assert called == granted


def test_organization_reader_role_is_assumed_for_discovery(simulator, ou_ids):
    # Given the hub itself may not call Organizations (it is not the management account or a delegated
    # administrator), and a reader role in the management account that trusts the hub
    reader = "arn:aws:iam::123456789012:role/org/OrganizationReader"
    boto3.client("iam").create_role(
        RoleName="OrganizationReader",
        Path="/org/",
        AssumeRolePolicyDocument=json.dumps(spoke_trust_policy(f"arn:aws:iam::{HUB}:root", None)),
    )
    simulator.faults.enforce_trust = True
    simulator.faults.rules.append(
        lambda request: (
            Fault("AccessDeniedException", "You don't have permissions to access this resource.")
            if request.service == "organizations" and request.access_key_id == "testing"
            else None
        )
    )
    with pytest.raises(DiscoveryError, match="AccessDeniedException"):
        discover({})
    # When discovery runs with the reader role configured
    discovery = discover({"ORGANIZATION_READER_ROLE_ARN": reader})
    # Then it walked the organization with the reader role's credentials
    assert {account.account_id for account in discovery.to_scan} == {
        PROD_A,
        PROD_DATA,
        DEV,
        SANDBOX,
        NO_ROLE,
        AT_ROOT,
    }
    assert simulator.faults.operations["sts:AssumeRole"] == 1


@pytest.mark.parametrize(
    ("env", "fault", "message"),
    [
        pytest.param(
            {},
            Fault("AWSOrganizationsNotInUseException", "Your account is not a member of an organization."),
            "AWSOrganizationsNotInUseException",
            id="not in an organization",
        ),
        pytest.param(
            {"MAX_ATTEMPTS": "1"},
            Fault("ServiceUnavailableException", "unavailable", status=503, sender=False),
            "ServiceUnavailableException",
            id="organizations unreachable",
        ),
        pytest.param(
            {"INCLUDE_OUS": "ou-zzzz-doesnotexist"}, None, "OrganizationalUnitNotFound", id="unknown OU"
        ),
        pytest.param(
            {"INCLUDE_OUS": "{Sandbox}", "EXCLUDE_ACCOUNTS": SANDBOX},
            None,
            "no account to scan",
            id="filters leave nothing",
        ),
    ],
)
def test_failed_discovery_fails_the_invocation_and_writes_nothing(
    simulator, ou_ids, report_bucket, lambda_context, monkeypatch, env, fault, message
):
    # Given a deployed configuration whose discovery cannot succeed
    for name, value in {
        "ACCOUNT_SOURCE": "organizations",
        "REPORT_BUCKET": report_bucket,
        "EXTERNAL_ID": DEMO_EXTERNAL_ID,
        **resolve(env, ou_ids),
    }.items():
        monkeypatch.setenv(name, value)
    if fault is not None:
        simulator.faults.rules.append(lambda request: fault if request.service == "organizations" else None)
    # When the handler runs, Then it raises (a Lambda error, which alarms) ...
    with pytest.raises(DiscoveryError, match=message):
        handler.lambda_handler({"source": "schedule"}, lambda_context)
    # ... and no report, and above all no latest.json, was written
    assert list_s3_keys(report_bucket) == []


def test_organization_run_reports_every_account_exactly_once(
    simulator, seed, ou_ids, report_bucket, lambda_context, monkeypatch, capsys
):
    # Given the organization's spokes seeded with their roles (one missing), and a deployed configuration
    seed(organization())
    for name, value in {
        "ACCOUNT_SOURCE": "organizations",
        "REPORT_BUCKET": report_bucket,
        "EXTERNAL_ID": DEMO_EXTERNAL_ID,
        "EXCLUDE_OUS": ou_ids["Sandbox"],
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(handler, "utcnow", lambda: NOW)
    # When the scheduled run happens
    summary = handler.lambda_handler({"source": "schedule"}, lambda_context)
    # Then every account of the organization appears once, with its status and reason
    assert summary["accounts"] == {"expected": 8, "scanned": 4, "failed": 1, "skipped": 3, "not_scanned": 0}
    latest = read_s3_json(report_bucket, "iam-inventory/latest.json")
    report = read_s3_json(report_bucket, f"iam-inventory/{latest['files']['report.json']}")
    entries = {entry["account_id"]: entry for entry in report["accounts"]}
    assert len(report["accounts"]) == len(entries) == 8
    assert {account_id: (e["status"], e["error_code"]) for account_id, e in entries.items()} == {
        PROD_A: ("scanned", None),
        PROD_DATA: ("scanned", None),
        DEV: ("scanned", None),
        AT_ROOT: ("scanned", None),
        NO_ROLE: ("failed", "AccessDenied"),
        SANDBOX: ("skipped", "ExcludedOU"),
        CLOSED: ("skipped", "AccountNotActive"),
        HUB: ("skipped", "HubAccount"),
    }
    assert report["run"]["account_source"] == "organizations"
    assert entries[CLOSED]["error_message"] == "account state is SUSPENDED"
    assert entries[PROD_DATA]["ou_path"] == "Root/Workloads/Prod/Data"
    assert entries[PROD_A]["api_calls"] > 1
    assert entries[CLOSED]["api_calls"] == 0
    assert [f["rule_id"] for f in report["findings"]] == ["access_key_too_old"]
    # And the coverage metrics add up: expected = scanned + failed + skipped
    totals = next(blob for blob in emf_blobs(capsys.readouterr().out) if "AccountsExpected" in blob)
    assert (
        totals["AccountsExpected"],
        totals["AccountsScanned"],
        totals["AccountsFailed"],
        totals["AccountsSkipped"],
    ) == (8, 4, 1, 3)
