"""Collect the routing tags (owner, team...) of every user of an account: one ListUserTags per user."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from iam_inventory.core.observability import logger
from iam_inventory.models import AccountInventory, IamUser


def collect_user_tags(
    iam: BaseClient, inventory: AccountInventory, tag_keys: Sequence[str], concurrency: int = 1
) -> AccountInventory:
    """The inventory with each user's configured tags; unchanged when no keys are configured.

    One ListUserTags per user, `concurrency` at a time (IAM limits are per account, like the keys' calls).

    A spoke role deployed before tags were collected may lack iam:ListUserTags: the account is then
    still inventoried, without tags, and a warning says why, rather than failing the whole account.
    """
    if not tag_keys or not inventory.users:
        return inventory

    def tagged(user: IamUser) -> IamUser:
        return replace(user, tags=list_user_tags(iam, user.user_name, tag_keys))

    try:
        if concurrency > 1:
            with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="tags") as pool:
                users = tuple(pool.map(tagged, inventory.users))
        else:
            users = tuple(tagged(user) for user in inventory.users)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("AccessDenied", "AccessDeniedException"):
            raise
        logger.warning(
            "user tags not collected: the spoke role may not call iam:ListUserTags",
            extra={"account_id": inventory.account_id, "error_code": "AccessDenied"},
        )
        return inventory
    return replace(inventory, users=users)


def list_user_tags(iam: BaseClient, user_name: str, tag_keys: Sequence[str]) -> dict[str, str]:
    """The user's tags among `tag_keys` (matched case-insensitively, as IAM treats keys), in that order."""
    wanted = {key.lower(): key for key in tag_keys}
    found: dict[str, str] = {}
    for page in iam.get_paginator("list_user_tags").paginate(UserName=user_name):
        for tag in page["Tags"]:
            key = wanted.get(tag["Key"].lower())
            if key is not None:
                found[key] = tag["Value"]
    return {key: found[key] for key in tag_keys if key in found}
