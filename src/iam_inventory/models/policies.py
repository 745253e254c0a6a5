"""Policy data of one IAM user, as GetAccountAuthorizationDetails describes it (input of privilege context).

Kept minimal on purpose: the collector (Filter=User and Filter=LocalManagedPolicy, paged) fills these from
`UserDetailList[].AttachedManagedPolicies`, `.UserPolicyList`, `.GroupList` (with the groups of
`GroupDetailList`) and `Policies[].PolicyVersionList[IsDefaultVersion]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# What IAM returns is URL-encoded JSON text (RFC 3986); boto3 hands back an already decoded dict.
PolicyDocumentSource = str | Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class AttachedPolicy:
    """A managed policy attached to a user or a group."""

    policy_name: str
    policy_arn: str


@dataclass(frozen=True, slots=True)
class InlinePolicy:
    """An inline policy embedded in a user or a group."""

    policy_name: str
    document: PolicyDocumentSource = field(hash=False)


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
