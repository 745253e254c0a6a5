"""Describe a fake AWS estate (accounts, users, keys) and seed it into the simulator.

Each spec carries the findings a correct scan must report for it (`expect`), written by hand from the
rules' definitions, so tests and the demo can compare what the job finds with what was planted.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from iam_inventory_sim.server import Simulator

HUB_ACCOUNT_ID = "123456789012"  # moto's default account: the hub's own credentials land here
DEMO_EXTERNAL_ID = "demo-external-id-7f3a9c"
_SIM_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass(frozen=True, slots=True)
class KeySpec:
    """An access key: age, days since last use (None: never used), status, expected key findings."""

    age_days: int
    last_used_days: int | None = None
    active: bool = True
    service: str = "s3"
    expect: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class UserSpec:
    """An IAM user: console and MFA state, keys, tags, and user-level expected findings."""

    name: str
    path: str = "/"
    console: bool = False
    mfa: bool = False
    keys: tuple[KeySpec, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    expect: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """A spoke account and how its role is set up (`ok`, `missing`, `wrong_external_id`).

    `ou`, `tags` and `state` matter only when the estate is also seeded as an organization:
    `ou` is the OU path below the root ("Workloads/Prod"; "" = directly under the root).
    """

    account_id: str
    name: str
    users: tuple[UserSpec, ...] = ()
    root_access_key: bool = False
    role: str = "ok"
    ou: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    state: str = "ACTIVE"  # or "SUSPENDED"

    @property
    def reachable(self) -> bool:
        """True when the hub can assume the spoke role (and would try: the account is active)."""
        return self.role == "ok" and self.state == "ACTIVE"


ExpectedFinding = tuple[str, str | None, str | None, str]


def expected_findings(
    accounts: Iterable[AccountSpec], key_ids: dict[tuple[str, str, int], str]
) -> set[ExpectedFinding]:
    """(account, user, access key id, rule) for every finding the estate was seeded to produce."""
    expected: set[ExpectedFinding] = set()
    for account in accounts:
        if not account.reachable:
            continue
        if account.root_access_key:
            expected.add((account.account_id, None, None, "root_access_key_present"))
        for user in account.users:
            expected.update((account.account_id, user.name, None, rule) for rule in user.expect)
            for index, key in enumerate(user.keys):
                key_id = key_ids[(account.account_id, user.name, index)]
                expected.update((account.account_id, user.name, key_id, rule) for rule in key.expect)
    return expected


def _filler_users(count: int, seed: int) -> tuple[UserSpec, ...]:
    """Healthy service users (recent, recently used keys): they add volume and must add no findings."""
    rng = random.Random(seed)
    users = []
    for index in range(count):
        keys = (KeySpec(age_days=rng.randint(5, 80), last_used_days=rng.randint(0, 20)),) if index % 4 else ()
        users.append(UserSpec(name=f"svc-{index:03d}", path="/service/", keys=keys))
    return tuple(users)


def demo_estate() -> tuple[AccountSpec, ...]:
    """The demo's estate: five member accounts in nested OUs; one has no role, one is suspended."""
    too_old = frozenset({"access_key_too_old"})
    return (
        AccountSpec(
            "111111111111",
            "prod-payments",
            ou="Workloads/Prod",
            tags={"env": "prod"},
            users=(
                *_filler_users(115, seed=1),
                UserSpec(
                    "alice",
                    console=True,
                    mfa=True,
                    keys=(KeySpec(30, 1),),
                    tags={"owner": "alice@example.com"},
                ),
                UserSpec(
                    "bob",
                    console=True,
                    mfa=False,
                    tags={"owner": "bob@example.com", "team": "payments"},
                    expect=frozenset({"console_user_without_mfa"}),
                ),
                UserSpec(
                    "ci-deployer",
                    path="/automation/",
                    keys=(KeySpec(400, 0, expect=too_old),),
                    tags={"team": "platform"},
                ),
                UserSpec(
                    "carol",
                    keys=(KeySpec(20, 2), KeySpec(60, 5)),
                    expect=frozenset({"user_two_active_keys"}),
                ),
            ),
        ),
        AccountSpec(
            "222222222222",
            "dev-sandbox",
            ou="Sandbox",
            tags={"env": "dev"},
            root_access_key=True,
            users=(
                UserSpec("dave", keys=(KeySpec(50, 60, expect=frozenset({"access_key_unused"})),)),
                UserSpec("erin", keys=(KeySpec(30, None, expect=frozenset({"access_key_never_used"})),)),
                UserSpec("frank", keys=(KeySpec(3, None),)),
                UserSpec(
                    "grace", keys=(KeySpec(120, 10, active=False, expect=frozenset({"inactive_access_key"})),)
                ),
                UserSpec(
                    "heidi",
                    console=True,
                    tags={"owner": "heidi@example.com", "team": "data"},
                    keys=(KeySpec(200, 100, expect=frozenset({"access_key_too_old", "access_key_unused"})),),
                    expect=frozenset({"console_user_without_mfa"}),
                ),
            ),
        ),
        AccountSpec(
            "333333333333",
            "data-analytics",
            ou="Workloads/Prod/Data",
            tags={"env": "prod"},
            users=(
                UserSpec("ivan", console=True, mfa=True),
                UserSpec("judy", path="/analysts/", keys=(KeySpec(10, 1),)),
            ),
        ),
        AccountSpec("444444444444", "legacy-marketing", role="missing", ou="Legacy"),
        AccountSpec("555555555555", "closed-2023", ou="Legacy", state="SUSPENDED"),
    )


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


def spoke_trust_policy(hub_principal: str, external_id: str | None) -> dict:
    """The spoke role's trust policy: only the hub may assume it, with the ExternalId."""
    statement: dict = {"Effect": "Allow", "Principal": {"AWS": hub_principal}, "Action": "sts:AssumeRole"}
    if external_id:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def seed_estate(
    endpoint: str,
    accounts: Iterable[AccountSpec],
    now: datetime,
    external_id: str | None = DEMO_EXTERNAL_ID,
    role_name: str = "IAMListRole",
    role_path: str = "/",
) -> dict[tuple[str, str, int], str]:
    """Create roles, users, console profiles, MFA devices and keys dated relative to `now`.

    Returns the id of every created key by (account, user, key index), to name keys in expectations.
    """
    from moto.iam.models import AccessKeyLastUsed, iam_backends

    naive_now = now.astimezone(UTC).replace(tzinfo=None)  # moto stores naive UTC datetimes
    key_ids: dict[tuple[str, str, int], str] = {}
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
        backend = iam_backends[account.account_id]["aws"]
        for user in account.users:
            iam.create_user(
                UserName=user.name,
                Path=user.path,
                Tags=[{"Key": k, "Value": v} for k, v in user.tags.items()],
            )
            if user.console:
                iam.create_login_profile(UserName=user.name, Password="Sim-Passw0rd!-not-real")
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
                stored = next(k for k in backend.users[user.name].access_keys if k.access_key_id == key_id)
                stored.create_date = naive_now - timedelta(days=key.age_days, hours=1)
                if key.last_used_days is not None:
                    stored.last_used = AccessKeyLastUsed(
                        timestamp=naive_now - timedelta(days=key.last_used_days, hours=1),
                        service=key.service,
                        region="us-east-1",
                    )
        if account.root_access_key:
            backend.account_summary._account_access_keys_present = 1
    return key_ids


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
