"""The job never changes an account: the spoke role grants no IAM (or other) write action."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.cfn_template import load_spoke_template

# IAM verbs that change identities, credentials or permissions. GenerateCredentialReport only rebuilds a
# report that GetCredentialReport reads (see the comment in spoke/template.yaml), so it is not among them.
WRITE_VERBS = (
    "Create", "Delete", "Update", "Put", "Attach", "Detach", "Add", "Remove", "Set", "Enable", "Disable",
    "Deactivate", "Upload", "Change", "Reset", "Resync", "Tag", "Untag", "Pass",
)  # fmt: skip
_WRITE = re.compile(rf"^iam:({'|'.join(WRITE_VERBS)})", re.IGNORECASE)


def allowed_actions(template: dict[str, Any]) -> list[str]:
    role = template["Resources"]["SpokeRole"]["Properties"]
    actions: list[str] = []
    for policy in role.get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Allow":
                action = statement["Action"]
                actions += action if isinstance(action, list) else [action]
    return actions


def test_the_spoke_role_has_no_managed_policies_and_no_not_action():
    # Managed policies could grant anything; NotAction would allow everything else.
    role = load_spoke_template()["Resources"]["SpokeRole"]["Properties"]
    assert "ManagedPolicyArns" not in role
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert all("NotAction" not in statement for statement in statements)


def test_the_spoke_role_grants_no_write_action():
    actions = allowed_actions(load_spoke_template())
    # Every allowed action is an IAM read (Get/List/GenerateCredentialReport), named exactly: no wildcard
    assert actions, "the spoke role allows nothing: the template changed shape"
    assert [action for action in actions if _WRITE.match(action) or "*" in action] == []
    assert all(
        re.match(r"^iam:(Get|List)\w+$|^iam:GenerateCredentialReport$", action) for action in actions
    ), actions


REMEDIATION_ACTIONS = (
    "iam:UpdateAccessKey", "iam:DeleteAccessKey", "iam:CreateAccessKey", "iam:PutUserPolicy",
    "iam:AttachUserPolicy", "iam:DetachUserPolicy", "iam:EnableMFADevice", "iam:DeleteLoginProfile",
    "iam:TagUser", "IAM:deleteuser",
)  # fmt: skip


@pytest.mark.parametrize("action", REMEDIATION_ACTIONS)
def test_the_write_pattern_catches_every_remediation_action(action):
    # The commands a plan runs are exactly the actions the spoke role must never have.
    assert _WRITE.match(action)
