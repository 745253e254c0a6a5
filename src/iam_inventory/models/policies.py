"""Policy data of one IAM user, as GetAccountAuthorizationDetails describes it (input of privilege context).

Kept minimal on purpose: the collector (Filter=User and Filter=LocalManagedPolicy, paged) fills these from
`UserDetailList[].AttachedManagedPolicies`, `.UserPolicyList`, `.GroupList` (with the groups of
`GroupDetailList`) and `Policies[].PolicyVersionList[IsDefaultVersion]`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

# One shape for policy attachments everywhere: the inventory's (the collector fills both from the same call).
from iam_inventory.models import AttachedPolicy, InlinePolicy

# What IAM returns is URL-encoded JSON text (RFC 3986); boto3 hands back an already decoded dict.
PolicyDocumentSource = str | Mapping[str, Any]


def policy_json_text(document: str) -> str:
    """A policy document's JSON text, from IAM's URL-encoded text or from plain JSON text."""
    text = document.strip()
    # IAM URL-encodes documents (RFC 3986); plain JSON text starts with "{" and is never decoded, so
    # a literal "%" inside a condition value survives.
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
    return text if text.startswith("{") else unquote(text)


def canonical_policy_json(document: PolicyDocumentSource) -> str:
    """A policy document as canonical JSON text (sorted keys), from a dict or IAM's URL-encoded text."""
    if isinstance(document, str):
        document = json.loads(policy_json_text(document))
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class GroupPolicies:
    """A group the user belongs to, with the policies the group carries."""

    group_name: str
    attached: tuple[AttachedPolicy, ...] = ()
    inline: tuple[InlinePolicy, ...] = ()


@dataclass(frozen=True, slots=True)
class UserPolicies:
    """Everything that grants a user permissions: direct policies and group memberships."""

    attached: tuple[AttachedPolicy, ...] = ()
    inline: tuple[InlinePolicy, ...] = ()
    groups: tuple[GroupPolicies, ...] = ()


@dataclass(frozen=True, slots=True)
class ManagedPolicyDocument:
    """The default version of a customer-managed policy (Filter=LocalManagedPolicy), keyed by ARN."""

    policy_arn: str
    policy_name: str
    document: PolicyDocumentSource = field(hash=False)


# Built from GetAccountAuthorizationDetails pages; one paged call with Filter=["User", "Group",
# "LocalManagedPolicy"] returns all three lists. Pure mapping of the response shape, no AWS call:
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html


def user_policies_from_details(
    user_detail: Mapping[str, Any], groups_by_name: Mapping[str, Mapping[str, Any]]
) -> UserPolicies:
    """A user's policies from its UserDetailList item and the account's GroupDetailList items by name."""
    groups = []
    for name in user_detail.get("GroupList", []):
        group = groups_by_name.get(name, {})
        groups.append(
            GroupPolicies(
                group_name=name,
                attached=_attached(group.get("AttachedManagedPolicies", [])),
                inline=_inline(group.get("GroupPolicyList", [])),
            )
        )
    return UserPolicies(
        attached=_attached(user_detail.get("AttachedManagedPolicies", [])),
        inline=_inline(user_detail.get("UserPolicyList", [])),
        groups=tuple(groups),
    )


def groups_by_name(group_details: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """GroupDetailList items (from every page) keyed by group name."""
    return {group["GroupName"]: group for group in group_details}


def managed_documents_from_details(policies: Iterable[Mapping[str, Any]]) -> dict[str, ManagedPolicyDocument]:
    """The default version's document of each customer-managed policy (the `Policies` list), by ARN."""
    documents = {}
    for policy in policies:
        for version in policy.get("PolicyVersionList", []):
            if version.get("IsDefaultVersion"):
                # A policy's name is the last segment of its ARN (moto omits PolicyName here).
                name = policy.get("PolicyName") or policy["Arn"].rsplit("/", 1)[-1]
                documents[policy["Arn"]] = ManagedPolicyDocument(policy["Arn"], name, version["Document"])
    return documents


def _attached(items: Iterable[Mapping[str, Any]]) -> tuple[AttachedPolicy, ...]:
    return tuple(AttachedPolicy(item["PolicyName"], item["PolicyArn"]) for item in items)


def _inline(items: Iterable[Mapping[str, Any]]) -> tuple[InlinePolicy, ...]:
    return tuple(
        InlinePolicy(item["PolicyName"], canonical_policy_json(item["PolicyDocument"])) for item in items
    )
