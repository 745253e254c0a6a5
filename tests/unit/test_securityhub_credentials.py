"""ASFF for the findings on service credentials, SSH keys and signing certificates: type and id carried."""

from __future__ import annotations

from dataclasses import replace

from iam_inventory.evaluate.rules import evaluate
from iam_inventory.models import Thresholds
from iam_inventory.models.credentials import ServiceCredential, SigningCertificate, SshPublicKey
from iam_inventory.publish.channels.securityhub import ImportTarget, asff_finding
from tests.builders import NOW, days_ago, make_inventory, make_key, make_user

TARGET = ImportTarget("111111111111", "eu-west-1", "aws")
USER_ARN = "arn:aws:iam::111111111111:user/path/ml"
BEDROCK, SSH, CERT = "ACCAMLBEDROCK0000001", "APKAMLSSH00000000001", "CERTML000000000000000000001"


def documents() -> dict[str, dict]:
    """rule id -> its ASFF document, for a user with one finding per kind and a root certificate."""
    ml = replace(
        make_user("ml", keys=(make_key("AKIAML00000000000001", age=200),)),
        service_credentials=(
            ServiceCredential(BEDROCK, "bedrock.amazonaws.com", "ml-at-1", "Active", days_ago(10)),
        ),
        ssh_keys_read=True,
        ssh_public_keys=(SshPublicKey(SSH, "Active", days_ago(400)),),
        signing_certificates=(SigningCertificate(CERT, "Inactive", days_ago(30)),),
    )
    inventory = replace(make_inventory(ml), root_signing_certificate_active=True)
    findings = evaluate(inventory, Thresholds(), NOW)
    arns = {("111111111111", "ml"): USER_ARN}
    return {finding.rule_id: asff_finding(finding, TARGET, arns, NOW, NOW) for finding in findings}


def test_each_kinds_finding_names_its_credential_in_product_fields_and_resources():
    found = documents()
    for rule, kind, credential in (
        ("api_key_never_expires", "service_credential", BEDROCK),
        ("ssh_key_too_old", "ssh_key", SSH),
        ("inactive_signing_certificate", "signing_certificate", CERT),
    ):
        document = found[rule]
        # Then the product fields carry the credential's kind and id
        fields = document["ProductFields"]
        assert (fields["iam-inventory/CredentialType"], fields["iam-inventory/CredentialId"]) == (
            kind,
            credential,
        )
        assert "iam-inventory/AccessKeyId" not in fields
        # And the resources are the user, then the credential (ASFF has no type for it: Other)
        user, item = document["Resources"]
        assert (user["Type"], user["Id"]) == ("AwsIamUser", USER_ARN)
        assert item == {
            "Type": "Other",
            "Id": f"{USER_ARN}/{kind}/{credential}",
            "Partition": "aws",
            "Region": "eu-west-1",
            "Details": {"Other": {"CredentialType": kind, "CredentialId": credential, "UserName": "ml"}},
        }
        # And the id stays the stable one the report gives the finding
        assert document["Id"].startswith("iam-inventory/")


def test_an_access_key_finding_keeps_its_key_fields_and_one_resource():
    document = documents()["access_key_too_old"]
    fields = document["ProductFields"]
    assert fields["iam-inventory/AccessKeyId"] == "AKIAML00000000000001"
    assert (fields["iam-inventory/CredentialType"], fields["iam-inventory/CredentialId"]) == (
        "access_key",
        "AKIAML00000000000001",
    )
    assert [resource["Type"] for resource in document["Resources"]] == ["AwsIamUser"]


def test_the_root_certificate_finding_is_about_the_account():
    document = documents()["root_signing_certificate_active"]
    assert [resource["Type"] for resource in document["Resources"]] == ["AwsAccount"]
    assert document["Severity"] == {"Label": "CRITICAL"}
    assert "iam-inventory/CredentialId" not in document["ProductFields"]


def test_distinct_credentials_of_one_user_are_distinct_security_hub_findings():
    found = documents()
    ids = {
        found[rule]["Id"]
        for rule in ("api_key_never_expires", "ssh_key_too_old", "inactive_signing_certificate")
    }
    assert len(ids) == 3
