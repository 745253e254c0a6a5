"""Issue 12 in the run: exceptions, owners, privilege, lifecycle and remediation in every output."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import boto3
import pytest

from iam_inventory.config.events import RunRequest
from iam_inventory.entrypoints.bootstrap import bootstrap
from iam_inventory.evaluate.exceptions import ExceptionsFileError
from iam_inventory.pipeline.finalize import Outputs
from iam_inventory.pipeline.job import run_job
from iam_inventory.publish.render.rows import FINDINGS_CSV_COLUMNS
from iam_inventory.publish.render.schema import report_schema_errors
from iam_inventory_cli import main as cli_main
from iam_inventory_cli import tables
from iam_inventory_sim import (
    DEMO_EXTERNAL_ID,
    AccountSpec,
    KeySpec,
    UserSpec,
    admin_client,
    seed_organization,
)
from tests.builders import NOW
from tests.integration.conftest import account_findings, add_import_role, record_assume_role

PROD, DEV, MISC = "111111111111", "222222222222", "333333333333"
ESTATE = (
    AccountSpec(
        PROD,
        "prod",
        ou="Workloads/Prod",
        tags={"owner": "team-prod"},
        users=(
            UserSpec("ann", admin=True, tags={"owner": "ann@example.com"}, keys=(KeySpec(200, 1),)),
            UserSpec("bob", keys=(KeySpec(50, 60),)),
        ),
    ),
    AccountSpec(
        DEV,
        "dev",
        ou="Sandbox",
        users=(UserSpec("carl", console=True), UserSpec("dora", keys=(KeySpec(30, None),))),
    ),
    AccountSpec(MISC, "misc", ou="Misc", users=(UserSpec("eve", keys=(KeySpec(30, 3, active=False),)),)),
)
EXCEPTIONS = {
    "version": 1,
    "exceptions": [
        {
            "id": "dora-pending",
            "match": {"user": "dora", "rule": "access_key_never_used"},
            "owner": "team-sandbox",
            "reason": "vendor onboarding",
            "ticket": "SEC-1",
            "expires": "2027-01-31",
        },
        {
            "id": "eve-lapsed",
            "match": {"account": MISC, "user": "eve"},
            "owner": "team-misc",
            "reason": "was accepted",
            "expires": "2026-11-01",
        },
        {
            "id": "nobody",
            "match": {"user": "zed-*"},
            "owner": "team-x",
            "reason": "user gone",
            "expires": "2027-02-01",
        },
    ],
}


@pytest.fixture
def organization(simulator, seed, monkeypatch, tmp_path) -> Path:
    seed_organization(simulator.endpoint, ESTATE)
    seed(ESTATE)
    for name, value in {
        "ACCOUNT_SOURCE": "organizations",
        "EXTERNAL_ID": DEMO_EXTERNAL_ID,
        "OU_OWNERS": json.dumps({"Root/Sandbox": "team-sandbox"}),
    }.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "exceptions.json"
    path.write_text(json.dumps(EXCEPTIONS))
    return path


def run(out: Path, exceptions: Path, run_id: str, days_later: int = 0):
    request = RunRequest(source="manual", run_id=run_id, baseline=True)
    now = NOW + timedelta(days=days_later)
    return run_job(request, bootstrap(local_dir=out), lambda: now, "r", Outputs(exceptions_file=exceptions))


def by_user(entries: list[dict]) -> dict[tuple[str, str], dict]:
    return {(entry["user_name"], entry["rule_id"]): entry for entry in entries}


def test_a_run_enriches_every_finding_and_lists_suppressed_and_stale_apart(organization, tmp_path):
    # Given the organization and the exceptions file (one active, one expired, one matching nothing)
    out = tmp_path / "out"
    # When the run is made with the file
    run(out, organization, "first")
    report = json.loads((out / "report.json").read_text())
    assert report_schema_errors(report) == []
    findings = by_user(report["findings"])
    # Then ann (admin through the group's "*" policy) has her old key raised from medium to high
    ann = findings[("ann", "access_key_too_old")]
    assert (ann["base_severity"], ann["severity"], ann["privileged"]) == ("medium", "high", True)
    assert (
        ann["privileged_reason"]
        == 'Allow "*" on "*" in customer-managed policy admin-everything (through group admins)'
    )
    # And owners come from the user tag, the account tag, the OU map, else unowned
    owners = {key: (entry["owner"], entry["owner_source"]) for key, entry in findings.items()}
    assert owners[("ann", "access_key_too_old")] == ("ann@example.com", "user_tag")
    assert owners[("bob", "access_key_unused")] == ("team-prod", "account_tag")
    assert owners[("carl", "console_user_without_mfa")] == ("team-sandbox", "ou_map")
    assert owners[("eve", "inactive_access_key")] == ("unowned", "none")
    # And dora's finding is suppressed, listed apart with its exception, and not counted
    assert ("dora", "access_key_never_used") not in findings
    [dora] = report["suppressed"]
    assert (dora["suppressed_by"], dora["exception"]["ticket"], dora["is_new"]) == (
        "dora-pending",
        "SEC-1",
        False,
    )
    assert report["summary"]["findings"]["suppressed"] == 1
    assert report["summary"]["findings"]["total"] == len(report["findings"]) == 4
    # And eve's lapsed exception turns her finding back on, with the note; "nobody" is stale
    assert findings[("eve", "inactive_access_key")]["exception_note"] == "exception_expired"
    assert [entry["id"] for entry in report["exceptions"]["stale"]] == ["nobody"]
    assert report["exceptions"]["expired_matches"] == 1
    # And each finding carries its remediation commands for that account, user and key
    commands = ann["remediation"]["commands"]
    assert commands[0] == f"aws iam get-access-key-last-used --access-key-id {ann['access_key_id']}"
    assert f"aws iam update-access-key --user-name ann --access-key-id {ann['access_key_id']}" in commands[1]
    # And findings.csv appends the new columns, with the suppressed row flagged
    rows = list(csv.DictReader(io.StringIO((out / "findings.csv").read_text())))
    assert tuple(rows[0]) == FINDINGS_CSV_COLUMNS
    flagged = {row["user_name"]: row["suppressed_by"] for row in rows if row["suppressed_by"]}
    assert flagged == {"dora": "dora-pending"}
    ann_row = next(row for row in rows if row["user_name"] == "ann")
    assert (ann_row["owner"], ann_row["privileged"], ann_row["days_open"], ann_row["overdue"]) == (
        "ann@example.com",
        "true",
        "0",
        "false",
    )
    # And one CSV per owner
    owner_files = sorted(path.name for path in (out / "owners").iterdir())
    assert owner_files == sorted(entry["file"].split("/")[1] for entry in report["owners"])
    team_prod = list(csv.DictReader(io.StringIO((out / "owners" / "team-prod.csv").read_text())))
    assert [(row["user_name"], row["rule_id"]) for row in team_prod] == [("bob", "access_key_unused")]


def test_first_seen_survives_runs_and_the_sla_marks_a_finding_overdue(organization, tmp_path):
    # Given a first run, then a second 40 days later (the high finding's SLA is 30 days)
    out = tmp_path / "out"
    run(out, organization, "first")
    run(out, organization, "second", days_later=40)
    report = json.loads((out / "report.json").read_text())
    ann = by_user(report["findings"])[("ann", "access_key_too_old")]
    # Then the finding is 40 days open and overdue, and the summary counts it by severity
    assert (ann["days_open"], ann["sla_days"], ann["due_on"], ann["overdue"]) == (40, 30, "2026-12-23", True)
    assert report["summary"]["findings"]["overdue_by_severity"]["high"] >= 1
    # And the suppressed finding was never new, so it is not announced now either
    assert "dora" not in {entry["user_name"] for entry in report["findings"] if entry["is_new"]}


def test_an_invalid_exceptions_file_stops_the_run_before_any_account_is_assumed(
    organization, tmp_path, simulator
):
    # Given an exceptions file whose second entry lacks `expires`
    bad = tmp_path / "bad.json"
    broken = json.loads(json.dumps(EXCEPTIONS))
    del broken["exceptions"][1]["expires"]
    bad.write_text(json.dumps(broken))
    assumed = record_assume_role(simulator)
    # When the run starts
    with pytest.raises(ExceptionsFileError, match="eve-lapsed") as raised:
        run(tmp_path / "out", bad, "bad")
    # Then nothing was assumed or written, and the error names the entry and the field
    assert "expires" in str(raised.value)
    assert assumed == []
    assert not (tmp_path / "out").exists()


def test_the_cli_refuses_an_invalid_exceptions_file_with_exit_2_and_one_line(organization, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1, "exceptions": [{"id": "x"}]}')
    code = cli_main.main(["run", "--dry-run", "--exceptions", str(bad)])
    assert code == tables.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith(f"iam-inventory: exceptions file {bad} is invalid: ")
    assert err.count("\n") == 1


def subscribe(sns, sqs, topic: str, name: str, filter_policy: dict) -> str:
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps(filter_policy)},
    )
    return queue


def bodies(sqs, queue: str) -> list[str]:
    return [
        item["Body"]
        for item in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    ]


def test_each_owner_gets_its_own_message_and_a_filter_policy_selects_it(organization, tmp_path, monkeypatch):
    # Given a topic with two filtered subscriptions: team-sandbox's, and high findings in prod
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="findings")["TopicArn"]
    sandbox = subscribe(sns, sqs, topic, "sandbox", {"owner": ["team-sandbox"]})
    prod_high = subscribe(sns, sqs, topic, "prod-high", {"severity": ["high"], "account": [PROD]})
    monkeypatch.setenv("NOTIFY_TOPIC_ARN", topic)
    # When the first run finds ann's raised key (high, prod) and carl's console user (high, dev)
    run(tmp_path / "out", organization, "first")
    # Then each subscription received only its owner's message
    [to_sandbox] = bodies(sqs, sandbox)
    assert "of team-sandbox" in to_sandbox
    assert "carl" in to_sandbox
    assert "ann" not in to_sandbox
    [to_prod] = bodies(sqs, prod_high)
    assert "of ann@example.com" in to_prod
    assert "[HIGH] access_key_too_old in 111111111111" in to_prod


def test_history_keeps_the_trend_per_account_and_per_owner(organization, tmp_path):
    out = tmp_path / "out"
    run(out, organization, "first")
    run(out, organization, "second", days_later=40)
    runs = json.loads((out / "history.json").read_text())["runs"]
    assert [entry["run_id"] for entry in runs] == ["first", "second"]
    assert runs[0]["by_owner"]["team-sandbox"] == 1
    assert runs[0]["by_account"][PROD] == 2
    assert runs[0]["suppressed"] == 1
    assert runs[1]["overdue"] >= 1


def test_security_hub_gets_the_affected_account_remediation_and_workflow(
    organization, tmp_path, monkeypatch, simulator, caplog
):
    # Given Security Hub export, the import role in prod and dev only (misc never deployed it)
    monkeypatch.setenv("SECURITY_HUB_EXPORT", "true")
    for account_id in (PROD, DEV):
        add_import_role(simulator, account_id)
    out = tmp_path / "out"
    # And a first run, then bob's unused key deleted before a second run
    first = run(out, organization, "first")
    prod = admin_client(simulator, "iam", PROD)
    [key] = prod.list_access_keys(UserName="bob")["AccessKeyMetadata"]
    prod.delete_access_key(UserName="bob", AccessKeyId=key["AccessKeyId"])
    second = run(out, organization, "second", days_later=1)
    # (bob's was team-prod's only finding: the local owners/ folder no longer lists that owner)
    assert not (out / "owners" / "team-prod.csv").exists()
    assert (out / "owners" / "team-sandbox.csv").is_file()
    # When each account reads its own Security Hub back (GetFindings in that account)
    in_prod, in_dev = account_findings(simulator, PROD), account_findings(simulator, DEV)
    by_user = {
        f["Resources"][0]["Details"]["AwsIamUser"]["UserName"]: f
        for f in (*in_prod, *in_dev)
        if f["Resources"][0]["Type"] == "AwsIamUser"
    }
    # Then each finding is in the affected account's Security Hub, names it, and carries its remediation
    assert {f["AwsAccountId"] for f in in_prod} == {PROD}
    assert {f["AwsAccountId"] for f in in_dev} == {DEV}
    assert {f["ProductArn"] for f in in_dev} == {f"arn:aws:securityhub:us-east-1:{DEV}:product/{DEV}/default"}
    ann = by_user["ann"]
    assert ann["AwsAccountId"] == PROD
    assert ann["Severity"]["Label"] == "HIGH"
    text, key_id = (
        ann["Remediation"]["Recommendation"]["Text"],
        ann["ProductFields"]["iam-inventory/AccessKeyId"],
    )
    assert text.startswith(f"In account {PROD}, deactivate access key {key_id}")
    assert text.endswith(f"First step: aws iam get-access-key-last-used --access-key-id {key_id}")
    assert (ann["Workflow"]["Status"], ann["RecordState"]) == ("NEW", "ACTIVE")
    # And dora's suppressed finding is SUPPRESSED in dev
    assert (by_user["dora"]["Workflow"]["Status"], by_user["dora"]["AwsAccountId"]) == ("SUPPRESSED", DEV)
    # And bob's fixed key moved to RESOLVED / ARCHIVED / PASSED (BatchUpdateFindings: a re-import cannot)
    bob = by_user["bob"]
    assert (bob["Workflow"]["Status"], bob["RecordState"], bob["Compliance"]["Status"]) == (
        "RESOLVED",
        "ARCHIVED",
        "PASSED",
    )
    # And misc, without the import role, is counted and reported while the others were imported
    assert account_findings(simulator, MISC) == []
    assert first.published["securityhub"] == (
        "4 imported into 2 accounts, 0 refused; 1 not sent: 1 accounts refused the import role"
    )
    assert second.published["securityhub"] == (
        "4 imported into 2 accounts, 0 refused; 1 not sent: 1 accounts refused the import role"
    )
    refusals = [r for r in caplog.records if r.getMessage() == "security hub import refused"]
    assert [(r.account_id, r.error_code) for r in refusals] == [(MISC, "AccessDenied")] * 2
