"""The demo's estate: five member accounts in nested OUs, with every rule planted at least once, and the
change an admin makes between the first and second runs."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from iam_inventory_sim.demo_checks import ExpectedSet
from iam_inventory_sim.estate import (
    CODECOMMIT_POLICY,
    AccountSpec,
    KeySpec,
    PlantedIds,
    ServiceCredentialSpec,
    UploadSpec,
    UserSpec,
)
from iam_inventory_sim.seed import admin_client

if TYPE_CHECKING:
    from iam_inventory_sim.server import Simulator


def _filler_users(count: int, seed: int) -> tuple[UserSpec, ...]:
    """Healthy service users (recent, recently used keys): they add volume and must add no findings."""
    rng = random.Random(seed)
    users = []
    for index in range(count):
        keys = (KeySpec(age_days=rng.randint(5, 80), last_used_days=rng.randint(0, 20)),) if index % 4 else ()
        users.append(UserSpec(name=f"svc-{index:03d}", path="/service/", keys=keys))
    return tuple(users)


def _credential_holders() -> tuple[UserSpec, ...]:
    """Users holding the credentials beside access keys: API keys, git credentials, SSH keys, certificates."""
    bedrock, logs, codecommit = "bedrock.amazonaws.com", "logs.amazonaws.com", "codecommit.amazonaws.com"
    return (
        # A Bedrock API key created with no expiry: it works until someone deletes it.
        UserSpec(
            "genai-app",
            service_credentials=(
                ServiceCredentialSpec(bedrock, 12, expect=frozenset({"api_key_never_expires"})),
            ),
        ),
        # A Bedrock API key given a 365-day lifetime (the setting's maximum is 90 by default).
        UserSpec(
            "genai-batch",
            service_credentials=(
                ServiceCredentialSpec(
                    bedrock, 5, lifetime_days=365, expect=frozenset({"api_key_lifetime_too_long"})
                ),
            ),
        ),
        # A CloudWatch Logs API key whose 30-day lifetime ended 10 days ago, still present.
        UserSpec(
            "log-shipper",
            service_credentials=(
                ServiceCredentialSpec(
                    logs, 40, lifetime_days=30, expect=frozenset({"inactive_service_credential"})
                ),
            ),
        ),
        # A developer who may use CodeCommit: a 200-day-old git credential, an SSH key uploaded 400 days
        # ago, and an SSH key deactivated but never deleted.
        UserSpec(
            "dev-git",
            inline_policies={"codecommit-git": CODECOMMIT_POLICY},
            service_credentials=(
                ServiceCredentialSpec(codecommit, 200, expect=frozenset({"service_credential_too_old"})),
            ),
            ssh_keys=(
                UploadSpec(400, expect=frozenset({"ssh_key_too_old"})),
                UploadSpec(50, active=False, expect=frozenset({"inactive_ssh_key"})),
            ),
        ),
        # An SSH key on a user with no CodeCommit permission: it authenticates to nothing, so it is not read.
        UserSpec("ops-laptop", ssh_keys=(UploadSpec(700),)),
        # A legacy X.509 signing certificate (SOAP-era), uploaded 900 days ago, and one deactivated.
        UserSpec(
            "legacy-soap",
            signing_certificates=(
                UploadSpec(900, expect=frozenset({"signing_certificate_too_old"})),
                UploadSpec(100, active=False, expect=frozenset({"inactive_signing_certificate"})),
            ),
        ),
    )


def demo_estate() -> tuple[AccountSpec, ...]:
    """The demo's estate: five member accounts in nested OUs (one roleless, one suspended, one rootless)."""
    too_old = frozenset({"access_key_too_old"})
    return (
        AccountSpec(
            "111111111111",
            "prod-payments",
            ou="Workloads/Prod",
            # The owner of users without an owner tag of their own (carol, ci-deployer).
            tags={"env": "prod", "owner": "team-payments"},
            # A signing certificate on the root user, uploaded 1,500 days ago and still active.
            root_signing_certificate_days=1500,
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
            root_mfa=False,
            users=(
                UserSpec("dave", keys=(KeySpec(50, 60, expect=frozenset({"access_key_unused"})),)),
                UserSpec("erin", keys=(KeySpec(30, None, expect=frozenset({"access_key_never_used"})),)),
                UserSpec("frank", keys=(KeySpec(3, None),)),
                UserSpec(
                    "grace", keys=(KeySpec(120, 10, active=False, expect=frozenset({"inactive_access_key"})),)
                ),
                UserSpec(
                    "heidi",
                    admin=True,  # in the group "admins": her key findings are raised one level
                    console=True,
                    tags={"owner": "heidi@example.com", "team": "data"},
                    keys=(KeySpec(200, 100, expect=frozenset({"access_key_too_old", "access_key_unused"})),),
                    expect=frozenset({"console_user_without_mfa"}),
                ),
                UserSpec(
                    "legacy-ci",
                    path="/automation/",
                    # An admin whose key AWS found on a public repository: AWS attached the quarantine
                    # policy; the exposed key of an admin-equivalent user is raised high -> critical.
                    aws_policies=("AdministratorAccess", "AWSCompromisedKeyQuarantineV3"),
                    keys=(KeySpec(20, 0, expect=frozenset({"access_key_exposed"})),),
                ),
            ),
        ),
        AccountSpec(
            "333333333333",
            "data-analytics",
            ou="Workloads/Prod/Data",
            tags={"env": "prod"},
            # The organization deleted this member's root credentials (centralized root access): the
            # report's root row says mfa_active=false, yet there is nothing to fix and no finding.
            root_credentials_removed=True,
            users=(
                UserSpec(
                    "ivan",
                    console=True,
                    mfa=True,
                    password_used_days=60,
                    expect=frozenset({"console_password_unused"}),
                ),
                UserSpec("judy", path="/analysts/", keys=(KeySpec(10, 1),)),
                *_credential_holders(),
            ),
        ),
        AccountSpec("444444444444", "legacy-marketing", role="missing", ou="Legacy"),
        AccountSpec("555555555555", "closed-2023", ou="Legacy", state="SUSPENDED"),
    )


def change_demo_estate(simulator: Simulator, key_ids: PlantedIds) -> tuple[ExpectedSet, ExpectedSet]:
    """Fix two findings and cause a new one; return the (new, resolved) findings that should follow."""
    prod = admin_client(simulator, "iam", "111111111111")
    old_key = key_ids[("111111111111", "ci-deployer", 0)]
    prod.delete_access_key(UserName="ci-deployer", AccessKeyId=old_key)
    serial = prod.create_virtual_mfa_device(VirtualMFADeviceName="bob-mfa")["VirtualMFADevice"][
        "SerialNumber"
    ]
    prod.enable_mfa_device(
        UserName="bob", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    dev = admin_client(simulator, "iam", "222222222222")
    dev.create_user(
        UserName="mallory",
        Tags=[{"Key": "owner", "Value": "mallory@example.com"}, {"Key": "team", "Value": "growth"}],
    )
    dev.create_login_profile(UserName="mallory", Password="Sim-Passw0rd!-not-real")
    new = {("222222222222", "mallory", None, "console_user_without_mfa")}
    resolved = {
        ("111111111111", "ci-deployer", old_key, "access_key_too_old"),
        ("111111111111", "bob", None, "console_user_without_mfa"),
    }
    return new, resolved
