"""The live user set of an account, with tags, groups and policies, in one call per 1,000 users.

GetAccountAuthorizationDetails (Filter=User) returns, for each user, Path, UserName, UserId, Arn,
CreateDate, Tags, GroupList, AttachedManagedPolicies and UserPolicyList, paged with MaxItems (up to
1000) and Marker/IsTruncated; IAM may return fewer than MaxItems even when more remain.
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
https://docs.aws.amazon.com/IAM/latest/APIReference/API_UserDetail.html
The same paged call also asks for Group and LocalManagedPolicy: GroupDetailList gives each group's attached
and inline policies, Policies gives each customer-managed policy's versions (the default one is judged), so
a user's privilege (evaluate.privilege) covers policies attached through groups and customer-managed ones.
That replaces ListUsers plus one ListUserTags per user. A spoke role from an older stack may lack
iam:GetAccountAuthorizationDetails: then ListUsers (+ ListUserTags when tags are wanted) is used, and
the account says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from iam_inventory.collect.calls import is_access_denied, is_no_such_entity, map_bounded
from iam_inventory.collect.codecommit import may_use_codecommit
from iam_inventory.core.budget import Deadline
from iam_inventory.core.retry import call_patiently
from iam_inventory.core.text import pick_tags
from iam_inventory.evaluate.privilege import NOT_PRIVILEGED, PolicyDocumentError, Privilege, assess_privilege
from iam_inventory.models import AttachedPolicy, InlinePolicy
from iam_inventory.models.policies import (
    ManagedPolicyDocument,
    UserPolicies,
    groups_by_name,
    managed_documents_from_details,
    user_policies_from_details,
)

PAGE_SIZE = 1000  # the largest MaxItems IAM accepts
OLD_SPOKE_WARNING = (
    "spoke role lacks iam:GetAccountAuthorizationDetails (an older spoke stack): users were read with "
    "ListUsers and ListUserTags; update the spoke stack"
)
NO_TAGS_WARNING = "spoke role lacks iam:ListUserTags: user tags were not collected"


@dataclass(frozen=True, slots=True)
class LiveUser:
    """A user as IAM lists it now (the report may be hours older)."""

    user_name: str
    user_id: str
    arn: str
    path: str
    created_at: datetime
    tags: dict[str, str] = field(default_factory=dict, hash=False)
    groups: tuple[str, ...] = ()
    attached_policies: tuple[AttachedPolicy, ...] = ()
    inline_policies: tuple[InlinePolicy, ...] = ()
    privilege: Privilege = NOT_PRIVILEGED
    # Whether the user's policies allow any codecommit: action (collect/codecommit.py); True when the
    # policies were not read (ListUsers fallback), so SSH keys are then read rather than missed.
    may_use_codecommit: bool = True


@dataclass(frozen=True, slots=True)
class LiveUsers:
    """The account's users and how they were read."""

    users: tuple[LiveUser, ...]
    authorization_details: bool  # False: the ListUsers fallback ran
    warnings: tuple[str, ...] = ()


_NO_POLICIES = UserPolicies()  # the ListUsers fallback reads no policies


def _live_user(
    detail: dict[str, Any],
    tag_keys: Sequence[str],
    policies: UserPolicies = _NO_POLICIES,
    privilege: Privilege = NOT_PRIVILEGED,
    codecommit: bool = True,
) -> LiveUser:
    return LiveUser(
        user_name=detail["UserName"],
        user_id=detail["UserId"],
        arn=detail["Arn"],
        path=detail.get("Path", "/"),
        created_at=detail["CreateDate"],
        tags=pick_tags(detail.get("Tags", []), tag_keys),
        groups=tuple(detail.get("GroupList", [])),
        attached_policies=policies.attached,
        inline_policies=policies.inline,
        privilege=privilege,
        may_use_codecommit=codecommit,
    )


def user_privilege(policies: UserPolicies, documents: dict[str, ManagedPolicyDocument]) -> Privilege:
    """A user's privilege from its policies (its own and its groups') and the customer-managed documents."""
    try:
        return assess_privilege(policies, documents)
    except PolicyDocumentError as error:
        # A document IAM returned that does not parse: say so rather than call the user unprivileged.
        return Privilege(False, f"unknown: {error}")


def list_live_users(
    iam: BaseClient, tag_keys: Sequence[str], concurrency: int, deadline: Deadline
) -> LiveUsers:
    """Every user now, with the configured tags; falls back to ListUsers on an older spoke role."""
    try:
        details = call_patiently(lambda: _authorization_details(iam), deadline)
    except ClientError as error:
        if not is_access_denied(error):
            raise
        return _list_users_fallback(iam, tag_keys, concurrency, deadline)
    users, group_list, policies = details
    groups = groups_by_name(group_list)
    documents = managed_documents_from_details(policies)
    return LiveUsers(
        tuple(_detailed_user(detail, groups, documents, tag_keys) for detail in users),
        authorization_details=True,
    )


def _detailed_user(
    detail: dict[str, Any],
    groups: dict[str, Any],
    documents: dict[str, ManagedPolicyDocument],
    tag_keys: Sequence[str],
) -> LiveUser:
    # The user's policies are read (and their inline documents parsed) once, for the user and its privilege.
    policies = user_policies_from_details(detail, groups)
    privilege = user_privilege(policies, documents)
    return _live_user(detail, tag_keys, policies, privilege, may_use_codecommit(policies, documents))


AuthorizationDetails = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]


def _authorization_details(iam: BaseClient) -> AuthorizationDetails:
    """Users, groups and customer-managed policies, from one paged call (a page may hold any of them)."""
    paginator = iam.get_paginator("get_account_authorization_details")
    pages = list(
        paginator.paginate(
            Filter=["User", "Group", "LocalManagedPolicy"], PaginationConfig={"PageSize": PAGE_SIZE}
        )
    )
    return (
        [detail for page in pages for detail in page.get("UserDetailList", [])],
        [detail for page in pages for detail in page.get("GroupDetailList", [])],
        [detail for page in pages for detail in page.get("Policies", [])],
    )


def _list_users_fallback(
    iam: BaseClient, tag_keys: Sequence[str], concurrency: int, deadline: Deadline
) -> LiveUsers:
    def list_users() -> list[dict[str, Any]]:
        pages = iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": PAGE_SIZE})
        return [user for page in pages for user in page["Users"]]

    listed = call_patiently(list_users, deadline)
    users = [_live_user(raw, ()) for raw in listed]
    if not tag_keys:
        return LiveUsers(tuple(users), authorization_details=False, warnings=(OLD_SPOKE_WARNING,))

    def tags_of(user: LiveUser) -> dict[str, str] | None:
        try:
            pages = call_patiently(
                lambda: list(iam.get_paginator("list_user_tags").paginate(UserName=user.user_name)), deadline
            )
        except ClientError as error:
            if is_no_such_entity(error):
                return None  # deleted since ListUsers: drop the user, never the account
            raise
        return pick_tags((tag for page in pages for tag in page["Tags"]), tag_keys)

    try:
        tags = map_bounded(tags_of, users, concurrency)
    except ClientError as error:
        if not is_access_denied(error):
            raise
        return LiveUsers(tuple(users), False, (OLD_SPOKE_WARNING, NO_TAGS_WARNING))
    tagged = tuple(
        replace(user, tags=found) for user, found in zip(users, tags, strict=True) if found is not None
    )
    return LiveUsers(tagged, authorization_details=False, warnings=(OLD_SPOKE_WARNING,))
