"""Who may use CodeCommit: the users whose SSH public keys are worth a ListSSHPublicKeys call.

An IAM SSH public key "can be used only for authenticating the associated IAM user to an CodeCommit
repository" (https://docs.aws.amazon.com/IAM/latest/APIReference/API_UploadSSHPublicKey.html), and
CodeCommit has no resource-based policies, so a key can only be used by a user whose own identity
policies allow some codecommit: action. The rule, over the policies GetAccountAuthorizationDetails
already returned (user inline, user attached, and each group's inline and attached):
- an Allow statement whose Action matches any codecommit: action, wildcards included ("*", "code*:*",
  "codecommit:Git*", "*:GitPush"), or whose NotAction does not exclude all of codecommit;
- an AWS managed policy that does so in the committed snapshot (aws_managed_codecommit.json), or whose
  name is not in the snapshot at all (a policy AWS published since: assumed to allow, never skipped);
- a customer-managed policy's default version, judged by its document.
Deny statements, conditions, resources, permissions boundaries and SCPs are not subtracted: they can
only make a user read who could not use a key, never skip one who could. Pure: no AWS call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from functools import cache
from importlib.resources import files
from typing import Any

from iam_inventory.evaluate.privilege import PolicyDocumentError, aws_managed_name, decode_policy_document
from iam_inventory.models.policies import ManagedPolicyDocument, PolicyDocumentSource, UserPolicies

SERVICE = "codecommit"


def pattern_matches_codecommit(pattern: str) -> bool:
    """True when an action pattern matches some codecommit: action (IAM compares case-insensitively)."""
    lowered = pattern.strip().lower()
    if lowered == "*":
        return True
    service, _, action = lowered.partition(":")
    return bool(action) and fnmatchcase(SERVICE, service.replace("[", "[[]"))


def _excludes_all_codecommit(pattern: str) -> bool:
    lowered = pattern.strip().lower()
    service, _, action = lowered.partition(":")
    return lowered == "*" or (fnmatchcase(SERVICE, service.replace("[", "[[]")) and action == "*")


def document_allows_codecommit(document: PolicyDocumentSource) -> bool:
    """True when an Allow statement of the document allows some codecommit: action."""
    statements = decode_policy_document(document).get("Statement")
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        if "Action" in statement and any(
            pattern_matches_codecommit(str(a)) for a in _as_list(statement["Action"])
        ):
            return True
        if "NotAction" in statement and not any(
            _excludes_all_codecommit(str(a)) for a in _as_list(statement["NotAction"])
        ):
            return True
    return False


@cache
def _aws_managed_snapshot() -> tuple[frozenset[str], frozenset[str]]:
    """(AWS managed policies that allow codecommit, every AWS managed policy name) from the snapshot."""
    data = json.loads(files("iam_inventory.collect").joinpath("aws_managed_codecommit.json").read_text())
    allowing = frozenset(data["allow_codecommit"])
    return allowing, allowing | frozenset(data["other_policies"])


def may_use_codecommit(policies: UserPolicies, documents: Mapping[str, ManagedPolicyDocument]) -> bool:
    """True when the user's identity policies (direct or through a group) allow any codecommit: action."""
    allowing, known = _aws_managed_snapshot()
    attached = [*policies.attached, *(policy for group in policies.groups for policy in group.attached)]
    for policy in attached:
        name = aws_managed_name(policy)
        if name is not None and (name in allowing or name not in known):
            return True
        customer = documents.get(policy.policy_arn)
        if customer is not None and _allows(customer.document):
            return True
    inline = [*policies.inline, *(policy for group in policies.groups for policy in group.inline)]
    return any(_allows(policy.document) for policy in inline)


def _allows(document: PolicyDocumentSource) -> bool:
    try:
        return document_allows_codecommit(document)
    except PolicyDocumentError:
        return True  # a document that does not parse might allow it: read the keys rather than miss one


def _as_list(value: Any) -> Iterable[Any]:
    return value if isinstance(value, list) else [value]
