"""The optional Security Hub import role: off by default, same trust as the read role, two actions only."""

from __future__ import annotations

from tests.cfn_template import load_spoke_template

ROLE = "IAMInventoryFindingsImportRole"


def import_role() -> dict:
    return load_spoke_template()["Resources"][ROLE]


def test_the_import_role_exists_only_when_switched_on():
    # Given the spoke template's defaults, Then the role's condition is off unless FindingsImportRole=ENABLED
    template = load_spoke_template()
    assert template["Parameters"]["FindingsImportRole"]["Default"] == "DISABLED"
    assert import_role()["Condition"] == "CreateFindingsImportRole"
    assert template["Conditions"]["CreateFindingsImportRole"] == {
        "Fn::Equals": [{"Ref": "FindingsImportRole"}, "ENABLED"]
    }
    assert template["Outputs"]["FindingsImportRoleArn"]["Condition"] == "CreateFindingsImportRole"


def test_the_import_role_trusts_the_hub_exactly_like_the_read_role():
    template = load_spoke_template()
    read_trust = template["Resources"]["SpokeRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert import_role()["Properties"]["AssumeRolePolicyDocument"] == read_trust
    assert import_role()["Properties"]["Path"] == {"Ref": "RolePath"}


def test_the_import_role_can_only_import_findings_and_set_their_workflow_in_its_own_account():
    # Given every statement of the import role's policies
    properties = import_role()["Properties"]
    assert "ManagedPolicyArns" not in properties
    statements = [s for p in properties["Policies"] for s in p["PolicyDocument"]["Statement"]]
    # Then it allows two exact actions, each on this account's own product / hub, and nothing else
    assert all(s["Effect"] == "Allow" and "NotAction" not in s and "NotResource" not in s for s in statements)
    granted = {s["Action"]: s["Resource"]["Fn::Sub"] for s in statements}
    prefix = "arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:"
    assert granted == {
        "securityhub:BatchImportFindings": prefix + "product/${AWS::AccountId}/default",
        "securityhub:BatchUpdateFindings": prefix + "hub/default",
    }
