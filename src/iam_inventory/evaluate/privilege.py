"""Privilege context: is a user's access admin-equivalent? Pure functions of the user's policy data."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from iam_inventory.core.errors import IamInventoryError
from iam_inventory.models import AttachedPolicy, InlinePolicy, Severity
from iam_inventory.models.policies import (
    ManagedPolicyDocument,
    PolicyDocumentSource,
    UserPolicies,
    policy_json_text,
)

# AWS managed policies that grant everything, or the means to grant oneself everything.
ADMIN_EQUIVALENT_POLICIES: tuple[str, ...] = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
_AWS_MANAGED_ARN = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/(?:.*/)?(?P<name>[^/]+)$")
_RAISED: dict[Severity, Severity] = {
    Severity.LOW: Severity.MEDIUM,
    Severity.MEDIUM: Severity.HIGH,
    Severity.HIGH: Severity.CRITICAL,
    Severity.CRITICAL: Severity.CRITICAL,
}


class PolicyDocumentError(IamInventoryError, ValueError):
    """A policy document is neither JSON nor URL-encoded JSON."""


@dataclass(frozen=True, slots=True)
class Privilege:
    """Whether a user's access is admin-equivalent, and the first reason found."""

    privileged: bool
    reason: str = ""


NOT_PRIVILEGED = Privilege(False, "")


def decode_policy_document(document: PolicyDocumentSource) -> dict[str, Any]:
    """A policy document as a dict, from a dict or from IAM's URL-encoded JSON text."""
    if isinstance(document, Mapping):
        return dict(document)
    try:
        parsed = json.loads(policy_json_text(document))
    except json.JSONDecodeError as error:
        raise PolicyDocumentError(f"policy document is not JSON: {error.msg}") from None
    if not isinstance(parsed, dict):
        raise PolicyDocumentError("policy document is not a JSON object")
    return parsed


def admin_statement(document: PolicyDocumentSource) -> str | None:
    """What makes the document admin-equivalent ("*" or "iam:*" allowed on "*"), or None."""
    for statement in _statements(decode_policy_document(document)):
        if statement.get("Effect") != "Allow" or "Action" not in statement:
            continue  # Deny grants nothing; NotAction allows "all but", which is not admin by itself
        actions = {str(action).lower() for action in _as_list(statement["Action"])}
        if "*" not in _as_list(statement.get("Resource")):
            continue
        if "*" in actions or "*:*" in actions:
            return 'Allow "*" on "*"'
        if "iam:*" in actions:
            return 'Allow "iam:*" on "*"'
    return None


def assess_privilege(
    policies: UserPolicies, managed_documents: Mapping[str, ManagedPolicyDocument] | None = None
) -> Privilege:
    """The user's privilege: admin-equivalent managed policy (direct or group) or an admin statement."""
    documents = managed_documents or {}
    for via, policy in _attached(policies):
        name = aws_managed_name(policy)
        if name in ADMIN_EQUIVALENT_POLICIES:
            return Privilege(True, f"{name} attached {via}")
        customer = documents.get(policy.policy_arn)
        if customer is not None:
            found = admin_statement(customer.document)
            if found:
                return Privilege(True, f"{found} in customer-managed policy {policy.policy_name} ({via})")
    for via, inline in _inline(policies):
        found = admin_statement(inline.document)
        if found:
            return Privilege(True, f"{found} in inline policy {inline.policy_name} ({via})")
    return NOT_PRIVILEGED


def raised_severity(severity: Severity) -> Severity:
    """One level more urgent (critical stays critical)."""
    return _RAISED[severity]


def aws_managed_name(policy: AttachedPolicy) -> str | None:
    """The name of an AWS managed policy (any partition, any path), or None for a customer policy."""
    # Only AWS's own policy counts by name: a customer policy called "AdministratorAccess" is judged
    # by its document instead.
    match = _AWS_MANAGED_ARN.match(policy.policy_arn)
    return match.group("name") if match else None


def _attached(policies: UserPolicies) -> Iterator[tuple[str, AttachedPolicy]]:
    for policy in policies.attached:
        yield "directly", policy
    for group in policies.groups:
        for policy in group.attached:
            yield f"through group {group.group_name}", policy


def _inline(policies: UserPolicies) -> Iterator[tuple[str, InlinePolicy]]:
    for policy in policies.inline:
        yield "user", policy
    for group in policies.groups:
        for policy in group.inline:
            yield f"group {group.group_name}", policy


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [item for item in _as_list(document.get("Statement")) if isinstance(item, Mapping)]


def _as_list(value: Any) -> list[Any]:
    # IAM accepts a single value or a list for Statement, Action and Resource.
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
