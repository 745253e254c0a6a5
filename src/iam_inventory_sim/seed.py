"""Seed a described estate into the simulator, and hand out an account admin's client to change it later."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from iam_inventory_sim.estate import (
    DEMO_EXTERNAL_ID,
    HUB_ACCOUNT_ID,
    AccountSpec,
    PlantedIds,
    spoke_trust_policy,
)
from iam_inventory_sim.moto_state import backdate_key, set_password_dates, set_root_credentials
from iam_inventory_sim.seed_credentials import plant_root_signing_certificate, plant_user_credentials

if TYPE_CHECKING:
    from iam_inventory_sim.server import Simulator

_SIM_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _client(service: str, endpoint: str, credentials: dict[str, str] | None = None) -> object:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(retries={"mode": "standard", "max_attempts": 2}),
        **(credentials or _SIM_CREDENTIALS),
    )


def _account_credentials(endpoint: str, account_id: str) -> dict[str, str]:
    # Seeding happens before the fault layer enforces trust: moto lets any AssumeRole through.
    sts = _client("sts", endpoint)
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="seed"
    )["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def admin_client(simulator: Simulator, service: str, account_id: str) -> Any:
    """A client acting as the administrator of a simulated account, to change the estate.

    Changing the estate is the simulator's admin doing, not the hub's: trust enforcement is paused
    while the admin role is assumed, then restored.
    """
    enforcing = simulator.faults.enforce_trust
    simulator.faults.enforce_trust = False
    try:
        credentials = _account_credentials(simulator.endpoint, account_id)
    finally:
        simulator.faults.enforce_trust = enforcing
    return _client(service, simulator.endpoint, credentials)


def seed_estate(
    endpoint: str,
    accounts: Iterable[AccountSpec],
    now: datetime,
    external_id: str | None = DEMO_EXTERNAL_ID,
    role_name: str = "IAMListRole",
    role_path: str = "/",
) -> PlantedIds:
    """Create roles, users, console profiles, MFA devices, keys and other credentials dated from `now`.

    Returns the id of every created key by (account, user, key index), and of every other planted
    credential by (account, user, "service:N" | "ssh:N" | "cert:N"), to name them in expectations.
    """

    key_ids: PlantedIds = {}
    for account in accounts:
        iam = _client("iam", endpoint, _account_credentials(endpoint, account.account_id))
        if account.role != "missing":
            trusted_id = external_id if account.role == "ok" else "some-other-external-id"
            iam.create_role(
                RoleName=role_name,
                Path=role_path,
                AssumeRolePolicyDocument=json.dumps(
                    spoke_trust_policy(f"arn:aws:iam::{HUB_ACCOUNT_ID}:root", trusted_id)
                ),
            )
        if any(user.admin for user in account.users):
            _admins_group(iam)
        for user in account.users:
            iam.create_user(
                UserName=user.name,
                Path=user.path,
                Tags=[{"Key": k, "Value": v} for k, v in user.tags.items()],
            )
            if user.admin:
                iam.add_user_to_group(GroupName=ADMINS_GROUP, UserName=user.name)
            for policy in user.aws_policies:
                iam.attach_user_policy(UserName=user.name, PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
            if user.console:
                iam.create_login_profile(UserName=user.name, Password="Sim-Passw0rd!-not-real")
                if user.password_used_days is not None:
                    used = now - timedelta(days=user.password_used_days, hours=1)
                    set_password_dates(account.account_id, user.name, used)
            if user.mfa:
                serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{user.name}-mfa")[
                    "VirtualMFADevice"
                ]["SerialNumber"]
                iam.enable_mfa_device(
                    UserName=user.name,
                    SerialNumber=serial,
                    AuthenticationCode1="123456",
                    AuthenticationCode2="654321",
                )
            for index, key in enumerate(user.keys):
                key_id = iam.create_access_key(UserName=user.name)["AccessKey"]["AccessKeyId"]
                key_ids[(account.account_id, user.name, index)] = key_id
                if not key.active:
                    iam.update_access_key(UserName=user.name, AccessKeyId=key_id, Status="Inactive")
                # IAM dates keys to the second; seconds matter to matching report slots to keys.
                backdate_key(
                    account.account_id,
                    user.name,
                    key_id,
                    now - timedelta(days=key.age_days, hours=1),
                    None if key.last_used_days is None else now - timedelta(days=key.last_used_days, hours=1),
                    key.service,
                )
            plant_user_credentials(iam, account.account_id, user, now, key_ids)
        if account.root_signing_certificate_days is not None:
            plant_root_signing_certificate(
                account.account_id, now - timedelta(days=account.root_signing_certificate_days, hours=1)
            )
        set_root_credentials(
            account.account_id,
            access_key=account.root_access_key,
            mfa=account.root_mfa,
            password=account.root_password,
            removed=account.root_credentials_removed,
        )
    return key_ids


ADMINS_GROUP = "admins"


def _admins_group(iam: Any) -> None:
    """The group "admins" with a customer-managed policy allowing "*" on "*" (judged by its document)."""
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    policy = iam.create_policy(PolicyName="admin-everything", PolicyDocument=json.dumps(document))
    iam.create_group(GroupName=ADMINS_GROUP)
    iam.attach_group_policy(GroupName=ADMINS_GROUP, PolicyArn=policy["Policy"]["Arn"])


def seed_organization(
    endpoint: str, accounts: Iterable[AccountSpec], hub_name: str = "security-hub"
) -> dict[str, str]:
    """Make the hub the management account of an organization holding `accounts` in their OUs.

    Returns the OU id of every OU path ("" is the root), to configure filters with.
    """
    from moto.organizations.models import organizations_backends

    organizations = _client("organizations", endpoint)
    organizations.create_organization(FeatureSet="ALL")
    backend = organizations_backends[HUB_ACCOUNT_ID]["aws"]
    backend.get_account_by_id(HUB_ACCOUNT_ID).name = hub_name
    root_id = organizations.list_roots()["Roots"][0]["Id"]
    ou_ids = {"": root_id}
    for account in accounts:
        parent, path = root_id, ""
        for name in account.ou.split("/") if account.ou else ():
            path = f"{path}/{name}" if path else name
            if path not in ou_ids:
                created_ou = organizations.create_organizational_unit(ParentId=parent, Name=name)
                ou_ids[path] = created_ou["OrganizationalUnit"]["Id"]
            parent = ou_ids[path]
        status = organizations.create_account(
            AccountName=account.name,
            Email=f"{account.name}@example.com",
            Tags=[{"Key": key, "Value": value} for key, value in account.tags.items()],
        )["CreateAccountStatus"]
        # moto invents account ids; the estate's ids are fixed so IAM seeding and expectations agree.
        created = backend.get_account_by_id(status["AccountId"])
        organizations_backends.master_accounts.pop(created.id, None)
        created.id = account.account_id
        organizations_backends.master_accounts[account.account_id] = (HUB_ACCOUNT_ID, "aws")
        if parent != root_id:
            organizations.move_account(
                AccountId=account.account_id, SourceParentId=root_id, DestinationParentId=parent
            )
        if account.state == "SUSPENDED":
            organizations.close_account(AccountId=account.account_id)
    return ou_ids
