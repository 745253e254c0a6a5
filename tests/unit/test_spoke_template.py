"""The spoke role template, read as data: who may assume it, and on which conditions."""

from __future__ import annotations

import pytest

from tests.cfn_template import load_spoke_template, render

HUB_ROLE = "arn:aws:iam::123456789012:role/iam-inventory-hub"


@pytest.fixture(scope="module")
def template() -> dict:
    return load_spoke_template()


def test_is_plain_cloudformation_with_the_role_and_the_optional_import_role(template):
    # StackSets deploy plain CloudFormation: no SAM transform, only the role itself, and the
    # Security Hub import role when switched on (tests/unit/test_spoke_import_role.py).
    assert "Transform" not in template
    assert {name: resource["Type"] for name, resource in template["Resources"].items()} == {
        "SpokeRole": "AWS::IAM::Role",
        "IAMInventoryFindingsImportRole": "AWS::IAM::Role",
    }
    assert "Condition" not in template["Resources"]["SpokeRole"]


def test_parameters_name_the_role_and_hide_the_external_id(template):
    parameters = template["Parameters"]
    assert set(parameters) == {
        "HubRoleArn",
        "ExternalId",
        "RoleName",
        "RolePath",
        "OrganizationId",
        "PermissionsBoundaryArn",
        "FindingsImportRole",
        "FindingsImportRoleName",
    }
    assert parameters["ExternalId"]["NoEcho"] is True
    assert "Default" not in parameters["ExternalId"]
    assert "Default" not in parameters["HubRoleArn"]
    assert (parameters["RoleName"]["Default"], parameters["RolePath"]["Default"]) == ("IAMListRole", "/")
    role = template["Resources"]["SpokeRole"]["Properties"]
    assert (role["RoleName"], role["Path"]) == ({"Ref": "RoleName"}, {"Ref": "RolePath"})
    assert role["MaxSessionDuration"] == 3600


def test_trust_policy_trusts_only_the_hub_role_with_the_external_id(template):
    # Given the trust policy as written in the template
    trust = template["Resources"]["SpokeRole"]["Properties"]["AssumeRolePolicyDocument"]
    # Then it has one statement: the HubRoleArn parameter, sts:AssumeRole, the ExternalId condition
    assert len(trust["Statement"]) == 1
    statement = trust["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": {"Ref": "HubRoleArn"}}
    assert statement["Action"] == "sts:AssumeRole"
    assert set(statement["Condition"]) == {"StringEquals"}
    with_org, without_org = statement["Condition"]["StringEquals"]["Fn::If"][1:]
    assert with_org == {
        "sts:ExternalId": {"Ref": "ExternalId"},
        "aws:PrincipalOrgID": {"Ref": "OrganizationId"},
    }
    assert without_org == {"sts:ExternalId": {"Ref": "ExternalId"}}


@pytest.mark.parametrize(
    ("organization_id", "expected_condition"),
    [
        ("", {"sts:ExternalId": "ext-id-123"}),
        ("o-a1b2c3d4e5", {"sts:ExternalId": "ext-id-123", "aws:PrincipalOrgID": "o-a1b2c3d4e5"}),
    ],
)
def test_rendered_trust_policy_for_each_organization_setting(template, organization_id, expected_condition):
    # Given parameter values as a StackSet would pass them
    parameters = {"HubRoleArn": HUB_ROLE, "ExternalId": "ext-id-123", "OrganizationId": organization_id}
    # When CloudFormation resolves the role
    role = render(template, template["Resources"]["SpokeRole"]["Properties"], parameters, "111111111111")
    # Then the trust policy is exactly the hub role with the ExternalId (and the org, when given)
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Sid": "TrustHubRoleWithExternalId",
            "Effect": "Allow",
            "Principal": {"AWS": HUB_ROLE},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": expected_condition},
        }
    ]
    assert "PermissionsBoundary" not in role


def test_permissions_boundary_only_when_given(template):
    boundary = "arn:aws:iam::111111111111:policy/Boundary"
    parameters = {"HubRoleArn": HUB_ROLE, "ExternalId": "x1", "PermissionsBoundaryArn": boundary}
    role = render(template, template["Resources"]["SpokeRole"]["Properties"], parameters, "111111111111")
    assert role["PermissionsBoundary"] == boundary


def test_policies_only_read(template):
    # The drift test pins the exact list; this pins its shape: IAM only, allow only, no wildcards.
    role = render(
        template,
        template["Resources"]["SpokeRole"]["Properties"],
        {"HubRoleArn": HUB_ROLE, "ExternalId": "x1"},
        "111111111111",
    )
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    actions = [action for s in statements for action in s["Action"]]
    assert all(s["Effect"] == "Allow" for s in statements)
    assert all(action.startswith("iam:") and "*" not in action for action in actions)
    assert all(
        action.split(":")[1].startswith(("Get", "List", "GenerateCredentialReport")) for action in actions
    )
