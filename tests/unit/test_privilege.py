"""Privilege context: admin-equivalent users from their policy data, and the raised severity."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from iam_inventory.evaluate.privilege import (
    NOT_PRIVILEGED,
    PolicyDocumentError,
    Privilege,
    admin_statement,
    assess_privilege,
    decode_policy_document,
    raised_severity,
)
from iam_inventory.evaluate.rules import effective_severity
from iam_inventory.models import AttachedPolicy, InlinePolicy, Severity
from iam_inventory.models.policies import (
    GroupPolicies,
    ManagedPolicyDocument,
    UserPolicies,
    groups_by_name,
    managed_documents_from_details,
    user_policies_from_details,
)

ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
READ_ONLY = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}}


def aws_managed(name: str, partition: str = "aws") -> AttachedPolicy:
    return AttachedPolicy(name, f"arn:{partition}:iam::aws:policy/{name}")


def url_encoded(document: dict) -> str:
    # What IAM itself returns for GetAccountAuthorizationDetails (RFC 3986 URL-encoded JSON).
    return quote(json.dumps(document), safe="")


@pytest.mark.parametrize("name", ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"])
def test_admin_equivalent_aws_policies_attached_directly(name):
    # Given a user with the AWS managed policy attached directly
    policies = UserPolicies(attached=(aws_managed("ReadOnlyAccess"), aws_managed(name)))
    # When assessed, then the user is privileged and the reason names the policy
    assert assess_privilege(policies) == Privilege(True, f"{name} attached directly")


def test_admin_policy_through_a_group_and_in_another_partition():
    policies = UserPolicies(
        groups=(GroupPolicies("ops", attached=(aws_managed("AdministratorAccess", "aws-us-gov"),)),)
    )
    assert assess_privilege(policies) == Privilege(True, "AdministratorAccess attached through group ops")


def test_a_customer_policy_named_like_an_aws_one_is_judged_by_its_document():
    # Given a customer-managed policy called AdministratorAccess that only reads S3
    fake = AttachedPolicy("AdministratorAccess", "arn:aws:iam::111111111111:policy/AdministratorAccess")
    documents = {fake.policy_arn: ManagedPolicyDocument(fake.policy_arn, fake.policy_name, READ_ONLY)}
    # When assessed, then its name alone does not make the user privileged
    assert assess_privilege(UserPolicies(attached=(fake,)), documents) == NOT_PRIVILEGED


def test_customer_managed_policy_allowing_everything():
    # Given a customer-managed policy (URL-encoded, as IAM returns it) allowing * on *, attached to a group
    policy = AttachedPolicy("break-glass", "arn:aws:iam::111111111111:policy/ops/break-glass")
    documents = {
        policy.policy_arn: ManagedPolicyDocument(policy.policy_arn, "break-glass", url_encoded(ADMIN))
    }
    policies = UserPolicies(groups=(GroupPolicies("oncall", attached=(policy,)),))
    # When assessed, then the reason names the statement, the policy and the group
    assert assess_privilege(policies, documents) == Privilege(
        True, 'Allow "*" on "*" in customer-managed policy break-glass (through group oncall)'
    )


def test_inline_policies_of_the_user_and_of_a_group():
    user_inline = UserPolicies(inline=(InlinePolicy("all", ADMIN),))
    group_inline = UserPolicies(groups=(GroupPolicies("g", inline=(InlinePolicy("iam", _iam_star()),)),))
    assert assess_privilege(user_inline) == Privilege(True, 'Allow "*" on "*" in inline policy all (user)')
    assert assess_privilege(group_inline) == Privilege(
        True, 'Allow "iam:*" on "*" in inline policy iam (group g)'
    )


def _iam_star() -> dict:
    return {"Statement": [{"Effect": "Allow", "Action": ["IAM:*"], "Resource": ["*"]}]}


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, 'Allow "*" on "*"'),
        (
            {"Effect": "Allow", "Action": ["s3:GetObject", "*"], "Resource": ["arn:aws:s3:::b", "*"]},
            'Allow "*" on "*"',
        ),
        ({"Effect": "Allow", "Action": "*:*", "Resource": "*"}, 'Allow "*" on "*"'),
        ({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::bucket/*"}, None),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, None),  # NotAction is not admin
        ({"Effect": "Deny", "Action": "*", "Resource": "*"}, None),  # Deny grants nothing
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, None),
        ({"Effect": "Allow", "Action": "*"}, None),  # no Resource
    ],
)
def test_admin_statement(statement, expected):
    assert admin_statement({"Version": "2012-10-17", "Statement": [statement]}) == expected


def test_a_single_statement_object_is_read_like_a_list():
    assert (
        admin_statement({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})
        == 'Allow "*" on "*"'
    )


@pytest.mark.parametrize(
    "document",
    [ADMIN, json.dumps(ADMIN), url_encoded(ADMIN), "  " + url_encoded(ADMIN) + "\n"],
    ids=["dict", "json-text", "url-encoded", "url-encoded-with-space"],
)
def test_documents_decode_from_each_form(document):
    assert decode_policy_document(document) == ADMIN


@pytest.mark.parametrize(
    ("document", "message"), [("%7Bnot", "policy document is not JSON"), ("[1]", "not a JSON object")]
)
def test_undecodable_documents_raise(document, message):
    with pytest.raises(PolicyDocumentError, match=message):
        decode_policy_document(document)


def test_a_user_without_admin_policies_is_not_privileged():
    policies = UserPolicies(
        attached=(aws_managed("ReadOnlyAccess"),),
        inline=(InlinePolicy("read", READ_ONLY),),
        groups=(GroupPolicies("dev", attached=(aws_managed("AmazonS3FullAccess"),)),),
    )
    assert assess_privilege(policies) == NOT_PRIVILEGED


@pytest.mark.parametrize(
    ("severity", "raised"),
    [
        (Severity.LOW, Severity.MEDIUM),
        (Severity.MEDIUM, Severity.HIGH),
        (Severity.HIGH, Severity.CRITICAL),
        (Severity.CRITICAL, Severity.CRITICAL),
    ],
)
def test_raised_severity(severity, raised):
    assert raised_severity(severity) is raised


def test_only_key_findings_of_privileged_users_are_raised():
    admin = Privilege(True, "AdministratorAccess attached directly")
    assert effective_severity("access_key_unused", Severity.MEDIUM, admin) is Severity.HIGH
    assert effective_severity("inactive_access_key", Severity.LOW, admin) is Severity.MEDIUM
    # an exposed key (AWS quarantined the user) of an admin-equivalent user is the critical key finding
    assert effective_severity("access_key_exposed", Severity.HIGH, admin) is Severity.CRITICAL
    assert effective_severity("access_key_exposed", Severity.HIGH, NOT_PRIVILEGED) is Severity.HIGH
    # an admin console login without MFA is as dangerous as a stale admin key: high becomes critical
    assert effective_severity("console_user_without_mfa", Severity.HIGH, admin) is Severity.CRITICAL
    assert effective_severity("console_password_unused", Severity.MEDIUM, admin) is Severity.HIGH
    # account-level rules are not about a user's credentials
    assert effective_severity("root_access_key_present", Severity.CRITICAL, admin) is Severity.CRITICAL
    assert effective_severity("root_mfa_disabled", Severity.CRITICAL, admin) is Severity.CRITICAL
    assert effective_severity("access_key_unused", Severity.MEDIUM, NOT_PRIVILEGED) is Severity.MEDIUM


def test_adapters_read_raw_authorization_details_with_url_encoded_documents():
    # Given response items as IAM sends them on the wire: documents URL-encoded, names and ARNs
    user = {
        "UserName": "ops",
        "GroupList": ["oncall", "deleted-group"],
        "AttachedManagedPolicies": [
            {"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}
        ],
        "UserPolicyList": [{"PolicyName": "read", "PolicyDocument": url_encoded(READ_ONLY)}],
    }
    groups = groups_by_name(
        [{"GroupName": "oncall", "GroupPolicyList": [], "AttachedManagedPolicies": [
            {"PolicyName": "break-glass", "PolicyArn": "arn:aws:iam::111111111111:policy/break-glass"}]}]
    )  # fmt: skip
    policies = [
        {
            "PolicyName": "break-glass",
            "Arn": "arn:aws:iam::111111111111:policy/break-glass",
            "PolicyVersionList": [
                {"Document": url_encoded(READ_ONLY), "IsDefaultVersion": False},
                {"Document": url_encoded(ADMIN), "IsDefaultVersion": True},
            ],
        }
    ]
    # When mapped and assessed
    policies_of_user = user_policies_from_details(user, groups)
    documents = managed_documents_from_details(policies)
    # Then the group with no details is kept with no policies, and only the default version counts
    assert [group.group_name for group in policies_of_user.groups] == ["oncall", "deleted-group"]
    assert decode_policy_document(documents["arn:aws:iam::111111111111:policy/break-glass"].document) == ADMIN
    assert assess_privilege(policies_of_user, documents) == Privilege(
        True, 'Allow "*" on "*" in customer-managed policy break-glass (through group oncall)'
    )
