"""The simulator's Security Hub is as strict as AWS about who imports a finding and who sets its workflow.

BatchImportFindings: https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html
BatchUpdateFindings: https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchUpdateFindings.html
"""

from __future__ import annotations

import boto3
import pytest

from iam_inventory_sim import admin_client
from iam_inventory_sim.estate import HUB_ACCOUNT_ID

SPOKE, OTHER = "111111111111", "222222222222"


def finding(account_id: str, finding_id: str = "iam-inventory/f1", **fields: object) -> dict:
    product = f"arn:aws:securityhub:us-east-1:{account_id}:product/{account_id}/default"
    return {
        "SchemaVersion": "2018-10-08",
        "Id": finding_id,
        "ProductArn": product,
        "GeneratorId": "iam-inventory/access_key_too_old",
        "AwsAccountId": account_id,
        "Types": ["Software and Configuration Checks"],
        "CreatedAt": "2026-11-23T06:00:00Z",
        "UpdatedAt": "2026-11-23T06:00:00Z",
        "Severity": {"Label": "HIGH"},
        "Title": "Active access key older than the maximum age",
        "Description": "old key",
        "Resources": [{"Type": "AwsAccount", "Id": f"AWS::::Account:{account_id}"}],
        "Compliance": {"Status": "FAILED"},
        **fields,
    }


def identifier(account_id: str, finding_id: str = "iam-inventory/f1") -> dict:
    product = f"arn:aws:securityhub:us-east-1:{account_id}:product/{account_id}/default"
    return {"Id": finding_id, "ProductArn": product}


def test_the_hub_cannot_import_a_finding_that_names_another_account(simulator):
    # Given the hub's own credentials (the old design: the hub imports every spoke's findings)
    hub = boto3.client("securityhub")
    # When it imports a finding whose AwsAccountId is the spoke, through its own or the spoke's product
    own_product = finding(
        SPOKE, ProductArn=f"arn:aws:securityhub:us-east-1:{HUB_ACCOUNT_ID}:product/{HUB_ACCOUNT_ID}/default"
    )
    response = hub.batch_import_findings(Findings=[own_product, finding(SPOKE, "iam-inventory/f2")])
    # Then Security Hub refuses both, and neither account holds anything
    assert (response["SuccessCount"], response["FailedCount"]) == (0, 2)
    assert {f["ErrorCode"] for f in response["FailedFindings"]} == {"AccessDeniedException"}
    assert hub.get_findings(MaxResults=100)["Findings"] == []
    assert admin_client(simulator, "securityhub", SPOKE).get_findings(MaxResults=100)["Findings"] == []


def test_a_re_import_cannot_change_the_workflow_but_batch_update_can(simulator):
    # Given a finding the spoke imported itself (no Workflow: it starts NEW)
    spoke = admin_client(simulator, "securityhub", SPOKE)
    assert spoke.batch_import_findings(Findings=[finding(SPOKE)])["SuccessCount"] == 1
    # When it is imported again as RESOLVED and ARCHIVED
    again = finding(SPOKE, Workflow={"Status": "RESOLVED"}, RecordState="ARCHIVED")
    assert spoke.batch_import_findings(Findings=[again])["SuccessCount"] == 1
    [stored] = spoke.get_findings(MaxResults=100)["Findings"]
    # Then the record state changed, the workflow did not
    assert (stored["Workflow"]["Status"], stored["RecordState"]) == ("NEW", "ARCHIVED")
    # When BatchUpdateFindings sets the workflow (one known finding, one unknown)
    response = spoke.batch_update_findings(
        FindingIdentifiers=[identifier(SPOKE), identifier(SPOKE, "iam-inventory/nope")],
        Workflow={"Status": "RESOLVED"},
        Note={"Text": "fixed", "UpdatedBy": "test"},
    )
    # Then the known one is processed and the unknown one reported, as AWS answers
    assert response["ProcessedFindings"] == [identifier(SPOKE)]
    assert [(u["FindingIdentifier"]["Id"], u["ErrorCode"]) for u in response["UnprocessedFindings"]] == [
        ("iam-inventory/nope", "FindingNotFound")
    ]
    [stored] = spoke.get_findings(MaxResults=100)["Findings"]
    assert (stored["Workflow"]["Status"], stored["Note"]["Text"]) == ("RESOLVED", "fixed")
    # And it left UpdatedAt alone (the provider's last import)
    assert stored["UpdatedAt"] == "2026-11-23T06:00:00Z"


def test_security_hub_reopens_a_resolved_finding_that_comes_back_active(simulator):
    # Given a RESOLVED, ARCHIVED finding
    spoke = admin_client(simulator, "securityhub", SPOKE)
    spoke.batch_import_findings(Findings=[finding(SPOKE, RecordState="ARCHIVED")])
    spoke.batch_update_findings(FindingIdentifiers=[identifier(SPOKE)], Workflow={"Status": "RESOLVED"})
    # When the provider imports it ACTIVE again
    spoke.batch_import_findings(Findings=[finding(SPOKE, RecordState="ACTIVE")])
    # Then Security Hub moves it back to NEW
    [stored] = spoke.get_findings(MaxResults=100)["Findings"]
    assert (stored["Workflow"]["Status"], stored["RecordState"]) == ("NEW", "ACTIVE")


def test_a_suppressed_finding_stays_suppressed_when_re_imported(simulator):
    # Given a finding created SUPPRESSED (Workflow is honoured when a finding is created)
    spoke = admin_client(simulator, "securityhub", SPOKE)
    spoke.batch_import_findings(Findings=[finding(SPOKE, Workflow={"Status": "SUPPRESSED"})])
    # When it is imported again with Workflow NEW
    spoke.batch_import_findings(Findings=[finding(SPOKE, Workflow={"Status": "NEW"})])
    # Then it is still SUPPRESSED
    [stored] = spoke.get_findings(MaxResults=100)["Findings"]
    assert stored["Workflow"]["Status"] == "SUPPRESSED"


def test_an_account_cannot_update_another_accounts_finding(simulator):
    # Given a finding in the spoke
    admin_client(simulator, "securityhub", SPOKE).batch_import_findings(Findings=[finding(SPOKE)])
    # When another account names it in BatchUpdateFindings
    other = admin_client(simulator, "securityhub", OTHER)
    response = other.batch_update_findings(
        FindingIdentifiers=[identifier(SPOKE)], Workflow={"Status": "RESOLVED"}
    )
    # Then it is not found there, and the spoke's finding is unchanged
    assert [u["ErrorCode"] for u in response["UnprocessedFindings"]] == ["FindingNotFound"]
    [stored] = admin_client(simulator, "securityhub", SPOKE).get_findings(MaxResults=100)["Findings"]
    assert stored["Workflow"]["Status"] == "NEW"


def test_more_than_100_findings_in_one_call_are_invalid(simulator):
    # (botocore itself refuses an empty list before sending)
    spoke = admin_client(simulator, "securityhub", SPOKE)
    findings = [finding(SPOKE, f"iam-inventory/f{number}") for number in range(101)]
    with pytest.raises(spoke.exceptions.InvalidInputException):
        spoke.batch_import_findings(Findings=findings)
