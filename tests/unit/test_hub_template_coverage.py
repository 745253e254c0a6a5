"""The hub template's discovery settings and coverage alarm agree with the code (no AWS)."""

from __future__ import annotations

import re

import pytest

from iam_inventory.config.settings import Settings
from tests.cfn_template import load_hub_template


@pytest.fixture(scope="module")
def template() -> dict:
    return load_hub_template()


def test_every_function_variable_is_a_setting(template):
    # A variable the code does not read is a setting that silently does nothing.
    variables = template["Resources"]["InventoryFunction"]["Properties"]["Environment"]["Variables"]
    aliases = {field.alias for field in Settings.model_fields.values()}
    assert set(variables) - aliases == set()
    assert {
        "INCLUDE_OUS",
        "EXCLUDE_OUS",
        "EXCLUDE_ACCOUNTS",
        "INCLUDE_ACCOUNT_TAGS",
        "EXCLUDE_ACCOUNT_TAGS",
        "SCAN_HUB_ACCOUNT",
        "ORGANIZATION_READER_ROLE_ARN",
    } <= set(variables)


def test_coverage_alarm_compares_scanned_with_expected_minus_skipped(template):
    alarm = template["Resources"]["AccountsNotScannedAlarm"]["Properties"]
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    expression = next(query for query in alarm["Metrics"] if query.get("ReturnData"))["Expression"]
    # Every id the expression uses is a metric the function publishes
    used = set(re.findall(r"[a-z]\w*", expression))
    assert {queries[name]["MetricStat"]["Metric"]["MetricName"] for name in used} == {
        "AccountsExpected",
        "AccountsSkipped",
        "AccountsScanned",
    }
    assert expression == "expected - skipped - scanned"
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


@pytest.mark.parametrize(
    ("parameter", "variable", "value"),
    [
        ("IncludeOUs", "INCLUDE_OUS", "ou-ab12-11111111,r-ab12"),
        ("ExcludeOUs", "EXCLUDE_OUS", "ou-ab12-22222222"),
        ("ExcludeAccounts", "EXCLUDE_ACCOUNTS", "111111111111,222222222222"),
        ("IncludeAccountTags", "INCLUDE_ACCOUNT_TAGS", "env=prod,cost center=Data Platform"),
        ("ExcludeAccountTags", "EXCLUDE_ACCOUNT_TAGS", "lifecycle=decommissioning"),
        (
            "OrganizationReaderRoleArn",
            "ORGANIZATION_READER_ROLE_ARN",
            "arn:aws:iam::999999999999:role/org/Reader",
        ),
    ],
)
def test_filter_parameters_accept_what_the_function_accepts(template, parameter, variable, value):
    # Given a value the function's settings accept
    Settings.from_env({variable: value})
    # Then the template parameter accepts it too, and accepts empty (= not set)
    spec = template["Parameters"][parameter]
    assert spec["Default"] == ""
    assert re.fullmatch(spec["AllowedPattern"], value)
    assert re.fullmatch(spec["AllowedPattern"], "")
