"""Live, per-user IAM calls: the API path, users created since the report, and live verification.

`NoSuchEntity` on a per-user call means the user was deleted while the account was read: that user is
dropped, never the account. GetLoginProfile is the exception: its NoSuchEntity means "no console
password", so ListAccessKeys (or ListMFADevices / GetUser) runs first to tell a deleted user apart.
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetLoginProfile.html
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from iam_inventory.collect.calls import is_access_denied, is_no_such_entity, map_bounded
from iam_inventory.collect.users import LiveUser
from iam_inventory.core.budget import Deadline
from iam_inventory.core.retry import call_patiently
from iam_inventory.models import AccessKey, AccountInventory, IamUser, KeyLastUse

T = TypeVar("T")


class UserGone(Exception):
    """The user was deleted while the account was being read."""


def _gone_on_no_such_entity(call: Callable[[], T], deadline: Deadline) -> T:
    try:
        return call_patiently(call, deadline)
    except ClientError as error:
        if is_no_such_entity(error):
            raise UserGone from None
        raise


@dataclass(frozen=True, slots=True)
class RootState:
    """The root user's credentials as GetAccountSummary counts them (each flag is 0 or 1 there)."""

    access_keys: bool
    mfa: bool
    password: bool
    signing_certificates: bool

    @property
    def credentials_removed(self) -> bool:
        """No password, key, certificate or MFA: what deleting root credentials centrally leaves."""
        return not (self.access_keys or self.mfa or self.password or self.signing_certificates)

    def inventory_fields(self) -> dict[str, Any]:
        """The AccountInventory fields this live reading fills."""
        return {
            "root_access_keys_present": self.access_keys,
            "root_mfa_enabled": self.mfa,
            "root_password_present": self.password,
            "root_credentials_removed": self.credentials_removed,
            # The summary counts root's certificates without their status: present is read as active
            # (verify_candidates and the report path keep the report's status where there is one).
            "root_signing_certificate_active": self.signing_certificates,
            "root_from_report": False,
        }


def read_root_state(iam: BaseClient, deadline: Deadline) -> RootState:
    """The root user's credentials, live from GetAccountSummary.

    SummaryMap holds AccountAccessKeysPresent, AccountMFAEnabled, AccountPasswordPresent and
    AccountSigningCertificatesPresent. A key absent from the map is read as present for the password
    (so root_mfa_disabled is never dropped for want of it) and as absent for the others, as before.
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountSummary.html
    """
    summary = call_patiently(iam.get_account_summary, deadline)["SummaryMap"]
    return RootState(
        access_keys=summary.get("AccountAccessKeysPresent", 0) > 0,
        mfa=summary.get("AccountMFAEnabled", 0) > 0,
        password=summary.get("AccountPasswordPresent", 1) > 0,
        signing_certificates=summary.get("AccountSigningCertificatesPresent", 0) > 0,
    )


def list_key_metadata(iam: BaseClient, user_name: str, deadline: Deadline) -> list[dict[str, Any]]:
    """The user's keys (at most two, so one page); raises UserGone for a deleted user."""
    response = _gone_on_no_such_entity(lambda: iam.list_access_keys(UserName=user_name), deadline)
    return list(response["AccessKeyMetadata"])


def get_key_last_use(
    iam: BaseClient, access_key_id: str, deadline: Deadline, *, user_name: str
) -> KeyLastUse | None:
    """When, where and for which service a key was last used; None when the key no longer exists.

    The API reference names no error for a key deleted since it was listed, and IAM may answer
    NoSuchEntity or AccessDenied (authorization resolves the key's owner, and there is none left).
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccessKeyLastUsed.html
    Either answer on a key listed moments before re-lists the user's keys once: a key no longer listed
    (or a user gone) is dropped, never the account. AccessDenied on a key still listed is a real denial
    and is raised; NoSuchEntity is IAM's own word on that key, so it is gone even if the listing lags.
    """
    try:
        response = call_patiently(lambda: iam.get_access_key_last_used(AccessKeyId=access_key_id), deadline)
    except ClientError as error:
        if not (is_no_such_entity(error) or is_access_denied(error)):
            raise
        if is_access_denied(error) and _still_listed(iam, user_name, access_key_id, deadline):
            raise
        return None
    last_used = response.get("AccessKeyLastUsed", {})
    used_at = last_used.get("LastUsedDate")
    if used_at is None:
        return KeyLastUse(used_at=None)
    # IAM reports "N/A" for service and region when it has no record of them.
    service, region = last_used.get("ServiceName"), last_used.get("Region")
    return KeyLastUse(
        used_at=used_at,
        service=None if service in (None, "N/A") else service,
        region=None if region in (None, "N/A") else region,
    )


def _still_listed(iam: BaseClient, user_name: str, access_key_id: str, deadline: Deadline) -> bool:
    try:
        listed = list_key_metadata(iam, user_name, deadline)
    except UserGone:
        return False
    return any(item["AccessKeyId"] == access_key_id for item in listed)


def read_login_profile(iam: BaseClient, user_name: str, deadline: Deadline) -> datetime | None:
    """When the user's login profile was created; None when the user has no console password.

    That CreateDate is not when the password was last set: an admin's UpdateLoginProfile (a reset) or
    the user's ChangePassword leaves it as it was, and no API returns the change date; only the
    credential report's password_last_changed does (https://github.com/boto/boto3/issues/1243).
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_LoginProfile.html
    """
    try:
        response = call_patiently(lambda: iam.get_login_profile(UserName=user_name), deadline)
    except ClientError as error:
        if is_no_such_entity(error):
            return None
        raise
    created: datetime = response["LoginProfile"]["CreateDate"]
    return created


def has_mfa_device(iam: BaseClient, user_name: str, deadline: Deadline) -> bool:
    """True when the user has an MFA device; raises UserGone for a deleted user."""
    response = _gone_on_no_such_entity(lambda: iam.list_mfa_devices(UserName=user_name), deadline)
    return bool(response["MFADevices"])


def read_password_last_used(iam: BaseClient, user_name: str, deadline: Deadline) -> datetime | None:
    """GetUser's PasswordLastUsed (absent when never used); raises UserGone for a deleted user."""
    response = _gone_on_no_such_entity(lambda: iam.get_user(UserName=user_name), deadline)
    last_used: datetime | None = response["User"].get("PasswordLastUsed")
    return last_used


def live_keys(
    iam: BaseClient, user_name: str, metadata: list[dict[str, Any]], deadline: Deadline
) -> tuple[AccessKey, ...]:
    """A user's listed keys with their last use from GetAccessKeyLastUsed (a key deleted since: dropped)."""
    keys = []
    for item in sorted(metadata, key=lambda entry: entry["CreateDate"]):
        last_use = get_key_last_use(iam, item["AccessKeyId"], deadline, user_name=user_name)
        if last_use is not None:
            keys.append(AccessKey(item["AccessKeyId"], item["Status"], item["CreateDate"], last_use))
    return tuple(keys)


def build_user(live: LiveUser, **state: Any) -> IamUser:
    """An inventory user: identity, tags and policies from the live listing, credentials from `state`."""
    return IamUser(
        user_name=live.user_name,
        user_id=live.user_id,
        arn=live.arn,
        path=live.path,
        created_at=live.created_at,
        tags=dict(live.tags),
        groups=live.groups,
        attached_policies=live.attached_policies,
        inline_policies=live.inline_policies,
        privileged=live.privilege.privileged,
        privileged_reason=live.privilege.reason,
        **state,
    )


def collect_user_live(iam: BaseClient, live: LiveUser, deadline: Deadline) -> IamUser | None:
    """One user entirely from live calls; None when the user was deleted meanwhile."""
    try:
        keys = live_keys(iam, live.user_name, list_key_metadata(iam, live.user_name, deadline), deadline)
        console = read_login_profile(iam, live.user_name, deadline) is not None
        # MFA and password use only matter for console users: one or two calls saved per other user.
        mfa = has_mfa_device(iam, live.user_name, deadline) if console else False
        last_used = read_password_last_used(iam, live.user_name, deadline) if console else None
    except UserGone:
        return None
    return build_user(
        live,
        console_access=console,
        password_last_used=last_used,
        password_changed_at=None,  # unknown: no API says when a password was last set
        mfa_enabled=mfa,
        access_keys=keys,
    )


def collect_users_live(
    iam: BaseClient, users: list[LiveUser], concurrency: int, deadline: Deadline
) -> list[IamUser]:
    """Each user from live calls, `concurrency` at a time; deleted users are left out."""
    collected = map_bounded(lambda live: collect_user_live(iam, live, deadline), users, concurrency)
    return [user for user in collected if user is not None]


def collect_account_api(
    iam: BaseClient,
    account_id: str,
    now: datetime,
    users: list[LiveUser],
    concurrency: int,
    deadline: Deadline,
) -> AccountInventory:
    """The account from per-user calls only (no credential report)."""
    root = read_root_state(iam, deadline)
    return AccountInventory(
        account_id=account_id,
        users=tuple(collect_users_live(iam, users, concurrency, deadline)),
        collected_at=now,
        **root.inventory_fields(),
    )
