"""Collect the IAM users, access keys, console/MFA state and root-key presence of one account."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from botocore.client import BaseClient

from iam_inventory.models import AccessKey, AccountInventory, IamUser, KeyLastUse


def collect_account(
    iam: BaseClient, account_id: str, now: datetime, concurrency: int = 1
) -> AccountInventory:
    """Read everything the rules need from one account; per-user calls run `concurrency` at a time."""
    root_keys, root_mfa = read_root_state(iam)
    raw_users = list_users(iam)
    if concurrency > 1:
        # IAM throttles per account, so the pool is small and per account (the adaptive retry mode
        # slows it further when IAM pushes back); results keep ListUsers order.
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="users") as pool:
            users = tuple(pool.map(lambda raw_user: collect_user(iam, raw_user), raw_users))
    else:
        users = tuple(collect_user(iam, raw_user) for raw_user in raw_users)
    return AccountInventory(
        account_id=account_id,
        users=users,
        root_access_keys_present=root_keys,
        root_mfa_enabled=root_mfa,
        collected_at=now,
    )


def read_root_state(iam: BaseClient) -> tuple[bool, bool]:
    """(root has an access key, root has MFA), from GetAccountSummary."""
    summary = iam.get_account_summary()["SummaryMap"]
    return summary.get("AccountAccessKeysPresent", 0) > 0, summary.get("AccountMFAEnabled", 0) > 0


def list_users(iam: BaseClient) -> list[dict]:
    """Every IAM user in the account, across all pages."""
    return [user for page in iam.get_paginator("list_users").paginate() for user in page["Users"]]


def collect_user(iam: BaseClient, raw_user: dict) -> IamUser:
    """One user with keys, last use of each key, console and MFA state."""
    user_name = raw_user["UserName"]
    console_access = has_login_profile(iam, user_name)
    return IamUser(
        user_name=user_name,
        user_id=raw_user["UserId"],
        arn=raw_user["Arn"],
        path=raw_user.get("Path", "/"),
        created_at=raw_user["CreateDate"],
        console_access=console_access,
        password_last_used=raw_user.get("PasswordLastUsed"),
        # MFA only matters for console users; skipping the call for the others saves one request per user.
        mfa_enabled=has_mfa_device(iam, user_name) if console_access else False,
        access_keys=tuple(list_access_keys(iam, user_name)),
    )


def has_login_profile(iam: BaseClient, user_name: str) -> bool:
    """True when the user has a console password."""
    try:
        iam.get_login_profile(UserName=user_name)
    except iam.exceptions.NoSuchEntityException:
        return False
    return True


def has_mfa_device(iam: BaseClient, user_name: str) -> bool:
    """True when the user has at least one MFA device (virtual or hardware)."""
    return any(
        page["MFADevices"] for page in iam.get_paginator("list_mfa_devices").paginate(UserName=user_name)
    )


def list_access_keys(iam: BaseClient, user_name: str) -> list[AccessKey]:
    """The user's access keys with their last use."""
    keys = []
    for page in iam.get_paginator("list_access_keys").paginate(UserName=user_name):
        for metadata in page["AccessKeyMetadata"]:
            key_id = metadata["AccessKeyId"]
            keys.append(
                AccessKey(
                    access_key_id=key_id,
                    status=metadata["Status"],
                    created_at=metadata["CreateDate"],
                    last_use=get_key_last_use(iam, key_id),
                )
            )
    return keys


def get_key_last_use(iam: BaseClient, access_key_id: str) -> KeyLastUse:
    """When, where and for which service a key was last used; never-used keys have no date."""
    last_used = iam.get_access_key_last_used(AccessKeyId=access_key_id).get("AccessKeyLastUsed", {})
    used_at = last_used.get("LastUsedDate")
    if used_at is None:
        return KeyLastUse(used_at=None)
    # IAM reports "N/A" for service and region when it has no record of them.
    service = last_used.get("ServiceName")
    region = last_used.get("Region")
    return KeyLastUse(
        used_at=used_at,
        service=None if service in (None, "N/A") else service,
        region=None if region in (None, "N/A") else region,
    )
