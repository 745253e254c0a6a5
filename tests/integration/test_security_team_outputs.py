"""Two runs through the handler on the simulator: tags, every output file, changes, SNS and Security Hub."""

from __future__ import annotations

import csv
import io
import json

import boto3
import pytest

from iam_inventory.entrypoints import handlers as handler
from iam_inventory.publish.render.athena import FINDINGS_TABLE, INVENTORY_TABLE
from iam_inventory.publish.render.schema import report_schema_errors
from iam_inventory_sim import DEMO_EXTERNAL_ID, AccountSpec, KeySpec, UserSpec, admin_client
from tests.builders import NOW
from tests.integration.conftest import (
    account_findings,
    add_import_role,
    emf_blobs,
    list_s3_keys,
    read_s3_json,
    read_s3_text,
)
from tests.outputs_support import glue_columns, jsonl_contract_violations

PREFIX = "iam-inventory"


def estate() -> tuple[AccountSpec, ...]:
    return (
        AccountSpec(
            "111111111111",
            "prod",
            users=(
                UserSpec(
                    "deployer",
                    keys=(KeySpec(400, 0, expect=frozenset({"access_key_too_old"})),),
                    tags={"owner": "=cmd|' /C calc'!A0", "team": "platform", "cost-center": "42"},
                ),
                UserSpec("web", console=True, tags={"Owner": "web@example.com"}),
            ),
        ),
        AccountSpec("222222222222", "dev", users=(UserSpec("fine", keys=(KeySpec(10, 1),)),)),
    )


@pytest.fixture
def configured(simulator, seed, report_bucket, monkeypatch):
    key_ids = seed(estate())
    monkeypatch.setenv("ACCOUNT_IDS", "111111111111,222222222222")
    monkeypatch.setenv("EXTERNAL_ID", DEMO_EXTERNAL_ID)
    monkeypatch.setenv("REPORT_BUCKET", report_bucket)
    monkeypatch.setattr(handler, "utcnow", lambda: NOW)
    return key_ids


def spoke_iam(simulator, account_id: str):
    """An IAM client in a spoke, to change the estate between runs."""
    return admin_client(simulator, "iam", account_id)


def run_folder(run_id: str) -> str:
    return f"{PREFIX}/runs/dt=2026-11-23/{run_id}"


def test_user_tags_are_collected_and_reach_findings_and_csvs(configured, report_bucket, lambda_context):
    # Given users tagged owner/team (and an unconfigured cost-center tag); the default USER_TAG_KEYS
    # When
    handler.lambda_handler({"run_id": "run-1"}, lambda_context)
    # Then only the configured keys are kept, matched case-insensitively
    report = read_s3_json(report_bucket, f"{run_folder('run-1')}/report.json")
    assert report_schema_errors(report) == []
    users = {u["user_name"]: u for entry in report["inventory"] for u in entry["users"]}
    assert users["deployer"]["tags"] == {"owner": "=cmd|' /C calc'!A0", "team": "platform"}
    assert users["web"]["tags"] == {"owner": "web@example.com"}
    assert users["fine"]["tags"] == {}
    by_rule = {f["rule_id"]: f for f in report["findings"]}
    assert by_rule["console_user_without_mfa"]["tags"] == {"owner": "web@example.com"}
    # And in the CSVs the hostile owner value is text, not a formula
    findings_csv = list(
        csv.DictReader(io.StringIO(read_s3_text(report_bucket, f"{run_folder('run-1')}/findings.csv")))
    )
    too_old = next(row for row in findings_csv if row["rule_id"] == "access_key_too_old")
    assert too_old["tags"] == "owner==cmd|' /C calc'!A0; team=platform"
    inventory_csv = read_s3_text(report_bucket, f"{run_folder('run-1')}/inventory.csv")
    assert len(inventory_csv.splitlines()) == 1 + 3  # header + deployer's key + web (no key) + fine's key


def test_tag_collection_can_be_switched_off(
    configured, simulator, report_bucket, lambda_context, monkeypatch
):
    monkeypatch.setenv("USER_TAG_KEYS", "none")
    handler.lambda_handler({"run_id": "run-1"}, lambda_context)
    report = read_s3_json(report_bucket, f"{run_folder('run-1')}/report.json")
    assert all(u["tags"] == {} for entry in report["inventory"] for u in entry["users"])
    assert simulator.faults.operations["iam:ListUserTags"] == 0


def test_a_spoke_role_without_list_user_tags_is_still_inventoried(
    configured, simulator, report_bucket, lambda_context
):
    # Given the oldest spoke stack: no iam:GetAccountAuthorizationDetails and no iam:ListUserTags
    from iam_inventory.collect.users import NO_TAGS_WARNING, OLD_SPOKE_WARNING
    from iam_inventory_sim import Fault

    simulator.faults.rules.append(
        lambda request: (
            Fault("AccessDenied", f"not authorized to perform: iam:{request.action}", status=403)
            if request.action in ("ListUserTags", "GetAccountAuthorizationDetails")
            else None
        )
    )
    # When
    summary = handler.lambda_handler({"run_id": "run-1"}, lambda_context)
    # Then both accounts are scanned through ListUsers, without tags, with their findings and warnings
    assert summary["accounts"]["scanned"] == 2
    assert summary["findings"]["total"] == 2
    report = read_s3_json(report_bucket, f"{run_folder('run-1')}/report.json")
    assert all(u["tags"] == {} for entry in report["inventory"] for u in entry["users"])
    for account in report["accounts"]:
        assert account["collection_path"] == "credential_report+list_users"
        assert account["warnings"] == [OLD_SPOKE_WARNING, NO_TAGS_WARNING]


def test_athena_partitions_match_the_glue_tables(configured, report_bucket, lambda_context):
    # When a run is published
    handler.lambda_handler({"run_id": "run-1"}, lambda_context)
    # Then both JSONL files are in the run folder, committed by manifests, and match the Glue tables
    for table in (FINDINGS_TABLE, INVENTORY_TABLE):
        key = f"{run_folder('run-1')}/{table}.jsonl"
        manifest = read_s3_text(report_bucket, f"{PREFIX}/athena/{table}/dt=2026-11-23/run-1.manifest")
        assert manifest == f"s3://{report_bucket}/{key}\n"
        body = boto3.client("s3").get_object(Bucket=report_bucket, Key=key)["Body"].read()
        assert jsonl_contract_violations(body, glue_columns(table)) == [], table
    assert (
        jsonl_contract_violations(
            read_s3_text(report_bucket, f"{PREFIX}/athena/runs/dt=2026-11-23/run-1.json").encode(),
            glue_columns("runs"),
        )
        == []
    )
    findings = read_s3_text(report_bucket, f"{run_folder('run-1')}/findings.jsonl").splitlines()
    assert len(findings) == 2
    assert {json.loads(line)["run_id"] for line in findings} == {"run-1"}


def test_second_run_reports_new_and_resolved_findings_and_notifies(
    configured, simulator, report_bucket, lambda_context, monkeypatch, capsys
):
    # Given an SNS topic delivering to a queue, and Security Hub export switched on
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="iam-inventory-findings")["TopicArn"]
    queue = sqs.create_queue(QueueName="findings-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    monkeypatch.setenv("NOTIFY_TOPIC_ARN", topic)
    monkeypatch.setenv("SECURITY_HUB_EXPORT", "true")
    for account_id in ("111111111111", "222222222222"):
        add_import_role(simulator, account_id)
    # And a first run (manual runs are compared with and notify only when they ask to be the baseline)
    first = handler.lambda_handler({"run_id": "run-1", "baseline": True}, lambda_context)
    assert first["changes"] == {"previous_run_id": None, "new": 2, "resolved": 0}
    first_message = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=first_message[0]["ReceiptHandle"])
    assert "first run" in first_message[0]["Body"]

    # When the old key is deleted and a new console user without MFA appears in dev
    prod = spoke_iam(simulator, "111111111111")
    old_key = configured[("111111111111", "deployer", 0)]
    prod.delete_access_key(UserName="deployer", AccessKeyId=old_key)
    dev = spoke_iam(simulator, "222222222222")
    dev.create_user(UserName="mallory", Tags=[{"Key": "team", "Value": "growth"}])
    dev.create_login_profile(UserName="mallory", Password="Sim-Passw0rd!-not-real")
    capsys.readouterr()
    second = handler.lambda_handler({"run_id": "run-2", "baseline": True}, lambda_context)

    # Then the summary, the report and the metrics show one new and one resolved finding
    assert second["changes"] == {"previous_run_id": "run-1", "new": 1, "resolved": 1}
    report = read_s3_json(report_bucket, f"{run_folder('run-2')}/report.json")
    assert report_schema_errors(report) == []
    new = [f for f in report["findings"] if f["is_new"]]
    assert [(f["account_id"], f["user_name"], f["rule_id"]) for f in new] == [
        ("222222222222", "mallory", "console_user_without_mfa")
    ]
    assert new[0]["tags"] == {"team": "growth"}
    resolved = report["changes"]["resolved_findings"]
    assert [(f["user_name"], f["access_key_id"], f["rule_id"]) for f in resolved] == [
        ("deployer", old_key, "access_key_too_old")
    ]
    web = next(f for f in report["findings"] if f["user_name"] == "web")
    assert (web["is_new"], web["first_seen_at"]) == (False, "2026-11-23T06:00:00Z")
    totals = next(blob for blob in emf_blobs(capsys.readouterr().out) if "NewFindings" in blob)
    assert (totals["NewFindings"], totals["ResolvedFindings"]) == (1, 1)

    # And the history behind the trend chart holds both runs
    history = read_s3_json(report_bucket, f"{run_folder('run-2')}/history.json")["runs"]
    assert [(entry["run_id"], entry["findings"]) for entry in history] == [("run-1", 2), ("run-2", 2)]

    # And the SNS message names the new high finding and its owner tag
    body = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"][0]["Body"]
    assert "compared with run run-1" in body
    assert "[HIGH] console_user_without_mfa in 222222222222" in body
    assert "team=growth" in body
    assert "index.html" in body

    # And each account's Security Hub holds one finding per problem of its own: the rerun updated the
    # finding, the resolved one is archived (read back in each account, where the import role put them)
    hub = {account: account_findings(simulator, account) for account in ("111111111111", "222222222222")}
    by_state = {
        (account, f["AwsAccountId"], f["Title"].split(" (")[0], f["Workflow"]["Status"], f["RecordState"])
        for account, found in hub.items()
        for f in found
    }
    assert sum(len(found) for found in hub.values()) == 3
    assert by_state == {
        (
            "111111111111",
            "111111111111",
            "Active access key older than the maximum age",
            "RESOLVED",
            "ARCHIVED",
        ),
        ("111111111111", "111111111111", "Console user without an MFA device", "NEW", "ACTIVE"),
        ("222222222222", "222222222222", "Console user without an MFA device", "NEW", "ACTIVE"),
    }
    # 2 current + 1 archived
    assert second["published"]["securityhub"] == (
        "3 imported into 2 accounts, 0 refused; 0 not sent: 0 accounts refused the import role"
    )


def test_retried_run_still_reports_its_changes(configured, simulator, report_bucket, lambda_context):
    # Given run-1, then run-2 after a new finding appeared (both baseline runs)
    handler.lambda_handler({"run_id": "run-1", "baseline": True}, lambda_context)
    dev = spoke_iam(simulator, "222222222222")
    dev.create_user(UserName="mallory")
    dev.create_login_profile(UserName="mallory", Password="Sim-Passw0rd!-not-real")
    handler.lambda_handler({"run_id": "run-2", "baseline": True}, lambda_context)
    # When run-2 is retried (latest.json already points at it)
    retried = handler.lambda_handler({"run_id": "run-2", "baseline": True}, lambda_context)
    # Then it still compares with run-1, and the history does not count run-2 twice
    assert retried["changes"] == {"previous_run_id": "run-1", "new": 1, "resolved": 0}
    history = read_s3_json(report_bucket, f"{run_folder('run-2')}/history.json")["runs"]
    assert [entry["run_id"] for entry in history] == ["run-1", "run-2"]
    assert len([key for key in list_s3_keys(report_bucket) if key.endswith(".jsonl")]) == 4


def test_an_unreadable_state_is_reported_and_sends_no_notification(
    configured, simulator, report_bucket, lambda_context, monkeypatch
):
    # Given a topic delivering to a queue, and a first baseline run whose state is then damaged
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="iam-inventory-findings")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    handler.lambda_handler({"run_id": "run-1", "baseline": True}, lambda_context)
    boto3.client("s3").put_object(
        Bucket=report_bucket, Key=f"{run_folder('run-1')}/state.jsonl.gz", Body=b"\x1f\x8b damaged"
    )
    monkeypatch.setenv("NOTIFY_TOPIC_ARN", topic)
    # When a new urgent finding appears and the next baseline run compares
    dev = spoke_iam(simulator, "222222222222")
    dev.create_user(UserName="mallory")
    dev.create_login_profile(UserName="mallory", Password="Sim-Passw0rd!-not-real")
    summary = handler.lambda_handler({"run_id": "run-2", "baseline": True}, lambda_context)
    # Then the summary and the report say the comparison is unusable, and nothing counts as new
    assert summary["comparison_state"]["status"] == "unreadable"
    assert summary["changes"] == {"previous_run_id": None, "new": None, "resolved": None}
    report = read_s3_json(report_bucket, f"{run_folder('run-2')}/report.json")
    assert report_schema_errors(report) == []
    assert not any(finding["is_new"] for finding in report["findings"])
    assert 'id="banner-state"' in read_s3_text(report_bucket, f"{run_folder('run-2')}/index.html")
    # And no notification went out
    assert "Messages" not in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
