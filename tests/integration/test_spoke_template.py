"""The spoke template against a real run: its permissions equal the calls the job makes in a spoke."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from iam_inventory.assume.clients import CallCounter, ClientFactory, SpokeCredentials
from iam_inventory.config.events import RunRequest
from iam_inventory.config.settings import Settings
from iam_inventory.pipeline.finalize import Outputs
from iam_inventory.pipeline.job import run_job
from iam_inventory.pipeline.runtime import open_runtime
from iam_inventory_sim import DEMO_EXTERNAL_ID, HUB_ACCOUNT_ID, AccountSpec, KeySpec, UserSpec
from tests.builders import NOW
from tests.cfn_template import granted_actions, load_spoke_template, render

HUB_ROLE_ARN = f"arn:aws:iam::{HUB_ACCOUNT_ID}:role/iam-inventory-hub"

# Granted by spoke/template.yaml but not yet called by any collection path. Each entry names the work
# whose code will call it; remove the entry when that code lands (the test fails until then, because an
# exercised action must not hide in this list). Empty: every granted action is exercised.
NOT_YET_EXERCISED: dict[str, str] = {}

# Every way the job can collect a spoke, as settings; the recorded call set is their union.
COLLECTION_PATHS: dict[str, dict[str, str]] = {
    "per-user API calls": {"COLLECTION_MODE": "api"},
    "credential report (fast path)": {"COLLECTION_MODE": "auto"},
}


def exercising_estate() -> tuple[AccountSpec, ...]:
    """Accounts reaching every branch of the collector: console with and without MFA, keys used and not."""
    return (
        AccountSpec(
            "111111111111",
            "all-branches",
            root_access_key=True,
            users=(
                UserSpec("console-mfa", console=True, mfa=True, keys=(KeySpec(10, 1), KeySpec(200, None))),
                UserSpec("console-no-mfa", console=True, tags={"team": "web"}),
                UserSpec("api-only", keys=(KeySpec(30, 3, active=False),)),
                UserSpec("bare"),
            ),
            role="missing",  # the role is created from the template below
        ),
        AccountSpec("222222222222", "empty", role="missing"),
    )


class RecordingFactory(ClientFactory):
    """A ClientFactory whose spoke clients report every operation through a botocore event hook."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.spoke_operations: set[str] = set()
        self._record_lock = threading.Lock()

    def spoke_client(
        self, service: str, credentials: SpokeCredentials, counter: CallCounter | None = None
    ) -> BaseClient:
        client = super().spoke_client(service, credentials, counter)
        client.meta.events.register("before-call", self._record)
        return client

    def _record(self, model: Any, **_: Any) -> None:
        # IAM action names are the API operation names under the service's endpoint prefix.
        with self._record_lock:
            self.spoke_operations.add(f"{model.service_model.endpoint_prefix}:{model.name}")


def deploy_spoke_template(account_id: str, parameters: dict[str, str]) -> None:
    """Create the spoke role in an account from the template, as CloudFormation would."""
    from moto.iam.models import iam_backends

    template = load_spoke_template()
    role = render(template, template["Resources"]["SpokeRole"]["Properties"], parameters, account_id)
    iam = iam_backends[account_id]["global"]
    iam.create_role(
        role_name=role["RoleName"],
        assume_role_policy_document=json.dumps(role["AssumeRolePolicyDocument"]),
        path=role["Path"],
        permissions_boundary=role.get("PermissionsBoundary"),
        description=role["Description"],
        tags=[],
        max_session_duration=str(role["MaxSessionDuration"]),
    )
    for policy in role["Policies"]:
        iam.put_role_policy(role["RoleName"], policy["PolicyName"], json.dumps(policy["PolicyDocument"]))


@pytest.fixture
def spokes(simulator, seed) -> tuple[str, ...]:
    """The estate seeded, each spoke's role created from spoke/template.yaml."""
    accounts = exercising_estate()
    seed(accounts)
    for account in accounts:
        deploy_spoke_template(
            account.account_id, {"HubRoleArn": HUB_ROLE_ARN, "ExternalId": DEMO_EXTERNAL_ID}
        )
    return tuple(account.account_id for account in accounts)


@contextmanager
def recorded_run(spokes: tuple[str, ...], env: dict[str, str]) -> Iterator[RecordingFactory]:
    settings = Settings.from_env({"ACCOUNT_IDS": ",".join(spokes), "EXTERNAL_ID": DEMO_EXTERNAL_ID, **env})
    factory = RecordingFactory(settings)
    result = run_job(
        RunRequest(dry_run=True), open_runtime(settings, factory), lambda: NOW, "drift", Outputs()
    )
    assert {item.status for item in result.accounts} == {"scanned"}, [
        (item.account.account_id, item.error_code) for item in result.accounts
    ]
    yield factory


def test_spoke_permissions_equal_the_calls_the_job_makes(spokes):
    # Given spoke roles deployed from the template, and every collection path of the job
    granted = granted_actions(load_spoke_template())
    # When the job runs each path, recording every operation made with spoke credentials
    recorded: set[str] = set()
    for env in COLLECTION_PATHS.values():
        with recorded_run(spokes, env) as factory:
            recorded |= factory.spoke_operations
    # Then the job calls nothing the template does not grant ...
    assert recorded - granted == set(), "the job calls actions spoke/template.yaml does not grant"
    # ... the template grants nothing the job does not call (beyond the named, pending ones) ...
    unused = granted - recorded - set(NOT_YET_EXERCISED)
    assert unused == set(), "spoke/template.yaml grants actions the job never calls"
    # ... and the pending list is honest: granted, and not yet called
    assert set(NOT_YET_EXERCISED) <= granted
    exercised = set(NOT_YET_EXERCISED) & recorded
    assert exercised == set(), "now exercised: remove from NOT_YET_EXERCISED"


def test_template_role_refuses_assume_role_without_the_external_id(spokes):
    # Given a spoke role created from the template
    sts = boto3.client("sts")
    role = f"arn:aws:iam::{spokes[0]}:role/IAMListRole"
    # When the hub assumes it with the ExternalId, Then it gets credentials
    assert sts.assume_role(RoleArn=role, RoleSessionName="check", ExternalId=DEMO_EXTERNAL_ID)["Credentials"]
    # And without it, or with another one, Then STS refuses
    for extra in ({}, {"ExternalId": "someone-elses-id"}):
        with pytest.raises(ClientError, match="AccessDenied"):
            sts.assume_role(RoleArn=role, RoleSessionName="check", **extra)
