"""Two runs through the handler on the simulator: the findings on service credentials keep stable ids.

Between the runs one never-expiring Bedrock API key is deleted and another user creates one: the second
run reports the first resolved and the second new, and the expired CloudWatch Logs key that stayed is
neither (same finding id, first seen in run 1).
"""

from __future__ import annotations

import json

import pytest

from iam_inventory.entrypoints import handlers as handler
from iam_inventory.publish.render.schema import report_schema_errors
from iam_inventory_sim import DEMO_EXTERNAL_ID, AccountSpec, UserSpec, admin_client
from iam_inventory_sim.estate import ServiceCredentialSpec
from tests.builders import NOW
from tests.integration.conftest import account_findings, add_import_role, read_s3_json, read_s3_text

PROD = "111111111111"
BEDROCK, LOGS = "bedrock.amazonaws.com", "logs.amazonaws.com"


def estate() -> tuple[AccountSpec, ...]:
    return (
        AccountSpec(
            PROD,
            "prod",
            users=(
                UserSpec(
                    "genai",
                    service_credentials=(
                        ServiceCredentialSpec(BEDROCK, 12, expect=frozenset({"api_key_never_expires"})),
                        ServiceCredentialSpec(
                            LOGS, 40, lifetime_days=30, expect=frozenset({"inactive_service_credential"})
                        ),
                    ),
                ),
                UserSpec("analyst"),
            ),
        ),
    )


@pytest.fixture
def planted(simulator, seed, report_bucket, monkeypatch):
    ids = seed(estate())
    monkeypatch.setenv("ACCOUNT_IDS", PROD)
    monkeypatch.setenv("EXTERNAL_ID", DEMO_EXTERNAL_ID)
    monkeypatch.setenv("REPORT_BUCKET", report_bucket)
    monkeypatch.setenv("SECURITY_HUB_EXPORT", "true")
    monkeypatch.setattr(handler, "utcnow", lambda: NOW)
    add_import_role(simulator, PROD)
    return ids


def report_of(bucket: str, summary: dict) -> dict:
    key = summary["published"]["report.json"].split(f"s3://{bucket}/", 1)[1]
    return read_s3_json(bucket, key)


def credential_findings(report: dict) -> dict[tuple[str, str, str], dict]:
    return {
        (f["user_name"], f["credential_id"], f["rule_id"]): f
        for f in report["findings"]
        if f["credential_type"] == "service_credential"
    }


def test_a_deleted_service_credential_is_resolved_and_a_new_one_is_new(
    planted, simulator, report_bucket, lambda_context
):
    old_key, logs_key = planted[(PROD, "genai", "service:0")], planted[(PROD, "genai", "service:1")]
    # Given a first baseline run that found the never-expiring Bedrock key and the expired Logs key
    first = handler.lambda_handler({"run_id": "run-1", "baseline": True}, lambda_context)
    first_report = report_of(report_bucket, first)
    before = credential_findings(first_report)
    assert set(before) == {
        ("genai", old_key, "api_key_never_expires"),
        ("genai", logs_key, "inactive_service_credential"),
    }
    # When the Bedrock key is deleted and another user creates one with no expiry
    iam = admin_client(simulator, "iam", PROD)
    iam.delete_service_specific_credential(UserName="genai", ServiceSpecificCredentialId=old_key)
    created = iam.create_service_specific_credential(UserName="analyst", ServiceName=BEDROCK)
    new_key = created["ServiceSpecificCredential"]["ServiceSpecificCredentialId"]
    second = handler.lambda_handler({"run_id": "run-2", "baseline": True}, lambda_context)

    # Then the run reports exactly one resolved and one new finding, by credential
    assert second["changes"] == {"previous_run_id": "run-1", "new": 1, "resolved": 1}
    report = report_of(report_bucket, second)
    assert report_schema_errors(report) == []
    after = credential_findings(report)
    assert set(after) == {
        ("analyst", new_key, "api_key_never_expires"),
        ("genai", logs_key, "inactive_service_credential"),
    }
    resolved = report["changes"]["resolved_findings"]
    assert [(f["user_name"], f["credential_type"], f["credential_id"], f["rule_id"]) for f in resolved] == [
        ("genai", "service_credential", old_key, "api_key_never_expires")
    ]
    assert resolved[0]["finding_id"] == before[("genai", old_key, "api_key_never_expires")]["finding_id"]
    assert [f["credential_id"] for f in report["findings"] if f["is_new"]] == [new_key]
    # And the Logs key that stayed keeps its finding id and first sighting
    stayed_before = before[("genai", logs_key, "inactive_service_credential")]
    stayed = after[("genai", logs_key, "inactive_service_credential")]
    assert (stayed["finding_id"], stayed["is_new"]) == (stayed_before["finding_id"], False)
    assert stayed["first_seen_at"] == stayed_before["first_seen_at"]
    # And the inventory lines name the credentials each run held, the secret never among them
    key = second["published"]["inventory.jsonl"].split(f"s3://{report_bucket}/", 1)[1]
    lines = [json.loads(line) for line in read_s3_text(report_bucket, key).splitlines()]
    held = {
        (
            line["user_name"],
            line["credential_id"],
            line["credential_status"],
            line["credential_expires_at"] is None,
        )
        for line in lines
        if line["credential_type"] == "service_credential"
    }
    assert held == {("analyst", new_key, "Active", True), ("genai", logs_key, "Expired", False)}
    secret = created["ServiceSpecificCredential"].get("ServiceCredentialSecret") or "never-an-empty-secret"
    report_key = second["published"]["report.json"].split(f"s3://{report_bucket}/", 1)[1]
    for written in (key, report_key):
        assert secret not in read_s3_text(report_bucket, written)
    # And Security Hub (read back in the account) holds one finding per credential and rule, by its id:
    # the deleted key's archived, the new key's active, each naming its credential
    hub = {
        (f["ProductFields"].get("iam-inventory/CredentialId"), f["GeneratorId"]): f
        for f in account_findings(simulator, PROD)
        if f["ProductFields"].get("iam-inventory/CredentialType") == "service_credential"
    }
    never = "iam-inventory/api_key_never_expires"
    assert {name: item["RecordState"] for name, item in hub.items()} == {
        (old_key, never): "ARCHIVED",
        (new_key, never): "ACTIVE",
        (logs_key, "iam-inventory/inactive_service_credential"): "ACTIVE",
    }
    resource = hub[(new_key, never)]["Resources"][1]
    assert (resource["Type"], resource["Details"]["Other"]["CredentialId"]) == ("Other", new_key)
