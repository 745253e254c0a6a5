"""The SAM template holds up: least privilege, a closed bucket, async failure handling, alarms that fire."""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.metrics import Metrics
from cfnlint.decode import decode_str

from iam_inventory.evaluate.changes import RunStatus
from iam_inventory.models import Account, AccountResult, AccountStatus
from iam_inventory.publish.channels.metrics import publish_run_metrics
from iam_inventory.publish.render.totals import RunTotals
from tests.builders import make_inventory

ROOT = Path(__file__).resolve().parents[2]
SPOKE_TEMPLATES = sorted((ROOT / "spoke").glob("*.yaml"))


def load(path: Path) -> dict[str, Any]:
    """A CloudFormation template with short-form intrinsics (!Ref, !Sub ...) as their long form."""
    template, problems = decode_str(path.read_text())
    assert not problems, problems
    return template


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load(ROOT / "template.yaml")


def branches(value: Any) -> Iterator[Any]:
    """Every value a (possibly Fn::If-wrapped) item can take, AWS::NoValue left out."""
    if isinstance(value, dict) and "Fn::If" in value:
        for branch in value["Fn::If"][1:]:
            yield from branches(branch)
    elif value != {"Ref": "AWS::NoValue"}:
        yield value


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement of every inline policy of a role, conditional ones included."""
    found = []
    for policy in role["Properties"].get("Policies", []):
        for item in policy["PolicyDocument"]["Statement"]:
            found.extend(branches(item))
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def resources_of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in template["Resources"].items() if spec["Type"] == kind}


# ---------------------------------------------------------------------------------------------
# The hub role
# ---------------------------------------------------------------------------------------------


def test_hub_role_can_assume_only_the_configured_spoke_role(template):
    # Given the hub's execution role
    hub = statements(template["Resources"]["InventoryRole"])
    # Then sts:AssumeRole is granted on the configured spoke name and path in any account (and on the
    # Security Hub import role name, same path), and otherwise only on the one Organizations reader
    # role ARN a deployer may configure for discovery
    assuming = {
        json.dumps(s["Resource"]): s for s in hub if any(a.startswith("sts:") for a in as_list(s["Action"]))
    }
    spoke = {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role${SpokeRolePath}${SpokeRoleName}"}
    importer = {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role${SpokeRolePath}${FindingsImportRoleName}"}
    assert set(assuming) == {
        json.dumps(spoke),
        json.dumps(importer),
        json.dumps({"Ref": "OrganizationReaderRoleArn"}),
    }
    for statement in assuming.values():
        assert statement["Effect"] == "Allow"
        assert as_list(statement["Action"]) == ["sts:AssumeRole"]
    # And nothing widens it: no wildcard actions, no NotAction/NotResource, no IAM or STS write elsewhere
    for statement in hub:
        assert "NotAction" not in statement
        assert "NotResource" not in statement
        for action in as_list(statement["Action"]):
            assert "*" not in action, action
            assert not action.startswith(("iam:", "sts:")) or action == "sts:AssumeRole"


@pytest.mark.parametrize(
    ("parameter", "value", "allowed"),
    [
        ("SpokeRoleName", "IAMListRole", True),
        ("SpokeRoleName", "*", False),
        ("SpokeRoleName", "IAM*", False),
        ("SpokeRoleName", "a" * 65, False),
        ("SpokeRolePath", "/", True),
        ("SpokeRolePath", "/security/audit/", True),
        ("SpokeRolePath", "/*/", False),
        ("SpokeRolePath", "/a?/", False),
        ("SpokeRolePath", "/*", False),
        ("SpokeRolePath", "security/", False),
        ("OrganizationReaderRoleArn", "", True),
        ("OrganizationReaderRoleArn", "arn:aws:iam::111111111111:role/OrgReader", True),
        ("OrganizationReaderRoleArn", "arn:aws:iam::111111111111:role/audit/OrgReader", True),
        ("OrganizationReaderRoleArn", "arn:aws:iam::111111111111:role/*", False),
        ("OrganizationReaderRoleArn", "arn:aws:iam::111111111111:role/*/OrgReader", False),
        ("OrganizationReaderRoleArn", "arn:aws:iam::*:role/OrgReader", False),
    ],
)
def test_assumable_role_parameters_cannot_smuggle_a_wildcard(template, parameter, value, allowed):
    # These become sts:AssumeRole resources: a '*' or '?' there would widen what the hub may assume.
    pattern = template["Parameters"][parameter]["AllowedPattern"]
    assert (re.fullmatch(pattern, value) is not None) is allowed


def test_hub_role_is_assumable_only_by_lambda(template):
    trust = template["Resources"]["InventoryRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]


def test_the_spoke_template_is_found():
    # The read-only check below is parametrized over these files: none found would check nothing.
    assert "template.yaml" in [path.name for path in SPOKE_TEMPLATES]


READ_ONLY_ACTION = re.compile(
    r"^iam:(Get|List|GenerateCredentialReport|GenerateServiceLastAccessedDetails)\w*$"
)


# The optional Security Hub import role is the one role that is not read-only: it may only import
# findings and set their workflow (tests/unit/test_spoke_import_role.py).
IMPORT_ROLE = "IAMInventoryFindingsImportRole"


@pytest.mark.parametrize("path", SPOKE_TEMPLATES, ids=lambda path: path.name)
def test_spoke_role_is_read_only(path):
    # Given every role the spoke template creates, but the optional import role
    spoke = load(path)
    roles = {
        name: role for name, role in resources_of_type(spoke, "AWS::IAM::Role").items() if name != IMPORT_ROLE
    }
    assert roles
    for role in roles.values():
        granted = [s for s in statements(role) if s["Effect"] == "Allow"]
        # Then it may only read IAM; managed policies, if any, are AWS's read-only ones
        for statement in granted:
            for action in as_list(statement["Action"]):
                assert READ_ONLY_ACTION.match(action), action
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            assert "ReadOnly" in str(arn) or "SecurityAudit" in str(arn), arn


# ---------------------------------------------------------------------------------------------
# The report bucket
# ---------------------------------------------------------------------------------------------


def test_bucket_blocks_every_kind_of_public_access(template):
    bucket = template["Resources"]["ReportBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]


def test_bucket_denies_non_tls_access_to_bucket_and_objects(template):
    policy = template["Resources"]["ReportBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "ReportBucket"}
    denials = [
        s
        for s in policy["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(denials) == 1
    assert denials[0]["Principal"] == "*"
    assert denials[0]["Action"] == "s3:*"
    assert denials[0]["Resource"] == [
        {"Fn::GetAtt": ["ReportBucket", "Arn"]},
        {"Fn::Sub": "${ReportBucket.Arn}/*"},
    ]


def test_no_resource_policy_allows_a_public_principal(template):
    for spec in template["Resources"].values():
        document = spec["Properties"].get("PolicyDocument", {}) if "Properties" in spec else {}
        for statement in document.get("Statement", []):
            if statement.get("Effect") == "Allow":
                assert statement.get("Principal") not in ("*", {"AWS": "*"}), statement


# ---------------------------------------------------------------------------------------------
# Async invocation: bounded retries, failures kept in an encrypted queue
# ---------------------------------------------------------------------------------------------


def test_async_invocation_retries_once_then_lands_in_the_encrypted_failure_queue(template):
    function = template["Resources"]["InventoryFunction"]["Properties"]
    invoke_config = function["EventInvokeConfig"]
    assert invoke_config["MaximumRetryAttempts"] == 1
    assert invoke_config["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["FailureQueue", "Arn"]},
    }
    queue = template["Resources"]["FailureQueue"]["Properties"]
    assert queue.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in queue
    # And the role may deliver there (Lambda sends with the function's role)
    sends = [
        s
        for s in statements(template["Resources"]["InventoryRole"])
        if "sqs:SendMessage" in as_list(s["Action"])
    ]
    assert [s["Resource"] for s in sends] == [{"Fn::GetAtt": ["FailureQueue", "Arn"]}]
    # And the scheduler's undeliverable events go to the same queue
    schedule = next(iter(function["Events"].values()))["Properties"]
    assert schedule["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["FailureQueue", "Arn"]}}


# ---------------------------------------------------------------------------------------------
# Alarms: each one watches the right metric and fires on the bad value, not on the good one
# ---------------------------------------------------------------------------------------------

COMPARISONS = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}


def breaches(alarm: dict[str, Any], value: float) -> bool:
    """Whether one period's statistic `value` breaches the alarm's threshold."""
    return COMPARISONS[alarm["ComparisonOperator"]](value, alarm["Threshold"])


def alarm_on(template: dict[str, Any], metric: str) -> dict[str, Any]:
    alarms = [
        spec["Properties"]
        for spec in resources_of_type(template, "AWS::CloudWatch::Alarm").values()
        if spec["Properties"].get("MetricName") == metric  # metric-math alarms have none
    ]
    assert len(alarms) == 1, f"one alarm on {metric}"
    return alarms[0]


def emitted_metric_names() -> set[str]:
    """The run-level metric names publish_metrics really emits."""
    accounts = [
        AccountResult(Account("111111111111"), AccountStatus.SCANNED, inventory=make_inventory()),
        AccountResult(Account("222222222222"), AccountStatus.FAILED, error_code="AccessDenied"),
    ]
    totals = RunTotals()
    for item in accounts:
        totals.add(item, [])
    metrics = Metrics(namespace="IAMInventory", service="iam-inventory")
    publish_run_metrics(totals, RunStatus.DEGRADED, (0, 0), metrics)
    names = set(metrics.metric_set)
    metrics.clear_metrics()
    publish_run_metrics(totals, RunStatus.FAILED, (None, None), metrics)
    names |= set(metrics.metric_set)
    metrics.clear_metrics()
    return names


@pytest.mark.parametrize(
    ("metric", "good", "bad"),
    [
        ("Errors", 0, 1),
        ("Throttles", 0, 1),
        ("AccountsFailed", 0, 1),
    ],
)
def test_alarm_fires_on_the_first_bad_data_point(template, metric, good, bad):
    alarm = alarm_on(template, metric)
    assert (breaches(alarm, good), breaches(alarm, bad)) == (False, True)
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_duration_alarm_fires_above_80_percent_of_the_timeout(template):
    timeout_ms = template["Resources"]["InventoryFunction"]["Properties"]["Timeout"] * 1000
    alarm = alarm_on(template, "Duration")
    assert alarm["Statistic"] == "Maximum"
    assert not breaches(alarm, 0.8 * timeout_ms)
    assert breaches(alarm, 0.8 * timeout_ms + 1)
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_missed_run_alarm_fires_when_no_run_completed_in_the_window(template):
    alarm = alarm_on(template, "RunCompleted")
    # One completed run in any hour keeps it quiet; a window of empty hours (missing data) fires it
    assert not breaches(alarm, 1)
    assert breaches(alarm, 0)
    assert alarm["TreatMissingData"] == "breaching"
    assert alarm["Statistic"] == "Sum"
    assert alarm["Period"] == 3600
    assert (
        alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == {"Ref": "MissedRunAlarmEvaluationHours"}
    )
    assert template["Parameters"]["MissedRunAlarmEvaluationHours"]["Default"] >= 24 + 1


@pytest.mark.parametrize("metric", ["AccountsFailed", "RunCompleted"])
def test_custom_metric_alarms_read_what_the_job_emits(template, metric):
    # The alarm's namespace and service dimension come from the same mapping the function's env uses
    alarm = alarm_on(template, metric)
    assert metric in emitted_metric_names()
    assert alarm["Namespace"] == {"Fn::FindInMap": ["Powertools", "Metrics", "Namespace"]}
    assert alarm["Dimensions"] == [
        {"Name": "service", "Value": {"Fn::FindInMap": ["Powertools", "Metrics", "Service"]}}
    ]
    mapping = template["Mappings"]["Powertools"]["Metrics"]
    assert (mapping["Namespace"], mapping["Service"]) == ("IAMInventory", "iam-inventory")
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == {"Fn::FindInMap": ["Powertools", "Metrics", "Namespace"]}


def test_exposed_key_alarm_reads_the_rule_count_the_job_emits(template, capsys):
    # Given a run with one (unsuppressed) exposed-key finding
    alarm = alarm_on(template, "FindingsByRule")
    totals = RunTotals()
    totals.by_rule["access_key_exposed"] = 1
    metrics = Metrics(namespace="IAMInventory", service="iam-inventory")
    capsys.readouterr()
    # When the run's metrics are published
    publish_run_metrics(totals, RunStatus.COMPLETE, (1, 0), metrics)
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    # Then the blob for that rule carries exactly the alarm's dimensions, and its value breaches it
    [blob] = [blob for blob in blobs if blob.get("RuleId") == "access_key_exposed"]
    [dimensions] = blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    names = [item["Name"] for item in alarm["Dimensions"]]
    assert sorted(dimensions) == sorted(names)
    assert alarm["Dimensions"][0] == {"Name": "RuleId", "Value": "access_key_exposed"}
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "IAMInventory"
    assert (breaches(alarm, 0), breaches(alarm, blob["FindingsByRule"][0])) == (False, True)
    assert alarm["TreatMissingData"] == "notBreaching"


def test_every_alarm_notifies_the_encrypted_topic(template):
    for name, spec in resources_of_type(template, "AWS::CloudWatch::Alarm").items():
        assert {"Ref": "AlarmTopic"} in spec["Properties"]["AlarmActions"], name
    assert template["Resources"]["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}


def test_checkov_skips_are_inline_and_justified(template):
    # Every accepted scanner finding sits on its resource with a one-line reason
    for name, spec in template["Resources"].items():
        for skip in spec.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), name
            assert len(skip["comment"]) > 20, name
            assert "\n" not in skip["comment"], name
