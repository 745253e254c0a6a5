"""Privilege context from a real GetAccountAuthorizationDetails response (moto on loopback)."""

from __future__ import annotations

import json

import boto3

from iam_inventory.collect.users import list_live_users
from iam_inventory.config.events import RunRequest
from iam_inventory.core.budget import Deadline
from iam_inventory.entrypoints.bootstrap import bootstrap
from iam_inventory.evaluate.privilege import NOT_PRIVILEGED, Privilege, assess_privilege
from iam_inventory.models.policies import (
    groups_by_name,
    managed_documents_from_details,
    user_policies_from_details,
)
from iam_inventory.pipeline.finalize import Outputs
from iam_inventory.pipeline.job import run_job
from iam_inventory_sim import DEMO_EXTERNAL_ID, AccountSpec, KeySpec, UserSpec, admin_client
from tests.builders import NOW

ALLOW_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
READ_S3 = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
)
ALL_BUT_IAM = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}
)


def test_each_admin_path_is_found_in_the_api_response(simulator):
    # Given users who are admins through a group's inline policy, a group's customer-managed policy, their
    # own inline policy and a customer-managed policy (an older version of which reads S3 only), and two
    # users who are not admins. (AWS managed policies such as AdministratorAccess are covered below.)
    iam = boto3.client("iam")
    broad = iam.create_policy(PolicyName="break-glass", Path="/ops/", PolicyDocument=READ_S3)["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=broad, PolicyDocument=ALLOW_ALL, SetAsDefault=True)
    narrow = iam.create_policy(PolicyName="reader", PolicyDocument=ALLOW_ALL)["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=narrow, PolicyDocument=READ_S3, SetAsDefault=True)
    iam.create_group(GroupName="admins")
    iam.put_group_policy(GroupName="admins", PolicyName="root-like", PolicyDocument=ALLOW_ALL)
    iam.create_group(GroupName="oncall")
    iam.attach_group_policy(GroupName="oncall", PolicyArn=broad)
    for name in ("alice", "bob", "carol", "dave", "erin", "frank"):
        iam.create_user(UserName=name)
    iam.add_user_to_group(GroupName="admins", UserName="alice")
    iam.add_user_to_group(GroupName="oncall", UserName="frank")
    iam.put_user_policy(UserName="bob", PolicyName="everything", PolicyDocument=ALLOW_ALL)
    iam.attach_user_policy(UserName="carol", PolicyArn=broad)
    iam.attach_user_policy(UserName="dave", PolicyArn=narrow)
    iam.put_user_policy(UserName="erin", PolicyName="all-but-iam", PolicyDocument=ALL_BUT_IAM)

    # When the account's details are read in one paged call and mapped to the policy models
    users, groups, policies = [], [], []
    pages = iam.get_paginator("get_account_authorization_details").paginate(
        Filter=["User", "Group", "LocalManagedPolicy"], PaginationConfig={"PageSize": 2}
    )
    for page in pages:
        users += page["UserDetailList"]
        groups += page["GroupDetailList"]
        policies += page["Policies"]
    by_group = groups_by_name(groups)
    documents = managed_documents_from_details(policies)
    privileges = {
        user["UserName"]: assess_privilege(user_policies_from_details(user, by_group), documents)
        for user in users
    }

    # Then each user gets the reason that applies, judged by each policy's default version only
    assert privileges == {
        "alice": Privilege(True, 'Allow "*" on "*" in inline policy root-like (group admins)'),
        "bob": Privilege(True, 'Allow "*" on "*" in inline policy everything (user)'),
        "carol": Privilege(True, 'Allow "*" on "*" in customer-managed policy break-glass (directly)'),
        "dave": NOT_PRIVILEGED,
        "erin": NOT_PRIVILEGED,
        "frank": Privilege(
            True, 'Allow "*" on "*" in customer-managed policy break-glass (through group oncall)'
        ),
    }


def test_the_collector_marks_each_user_privileged_from_one_paged_call(simulator):
    # Given a user admin through a group's customer-managed "*" policy, and one with a read-only policy
    iam = boto3.client("iam")
    broad = iam.create_policy(PolicyName="everything", PolicyDocument=ALLOW_ALL)["Policy"]["Arn"]
    reader = iam.create_policy(PolicyName="reader", PolicyDocument=READ_S3)["Policy"]["Arn"]
    iam.create_group(GroupName="ops")
    iam.attach_group_policy(GroupName="ops", PolicyArn=broad)
    iam.create_user(UserName="admin")
    iam.add_user_to_group(GroupName="ops", UserName="admin")
    iam.create_user(UserName="viewer")
    iam.attach_user_policy(UserName="viewer", PolicyArn=reader)
    simulator.faults.operations.clear()
    # When the live users are listed
    live = list_live_users(iam, ("owner",), 2, Deadline.unlimited())
    # Then one GetAccountAuthorizationDetails call carried users, groups and policies
    assert simulator.faults.operations["iam:GetAccountAuthorizationDetails"] == 1
    privilege = {user.user_name: user.privilege for user in live.users}
    assert privilege["admin"] == Privilege(
        True, 'Allow "*" on "*" in customer-managed policy everything (through group ops)'
    )
    assert privilege["viewer"] == NOT_PRIVILEGED


def test_a_key_aws_quarantined_is_flagged_and_critical_on_an_admin(simulator, seed, monkeypatch, tmp_path):
    # Given an account where AWS quarantined two users for exposed keys, as it does, by attaching its own
    # managed policy: an admin (AWS's AdministratorAccess, attached directly) and a reader; and a user
    # whose customer policy only borrows the quarantine policy's name
    account = "111111111111"
    key_ids = seed(
        (
            AccountSpec(
                account,
                "prod",
                users=(
                    UserSpec(
                        "deploy",
                        aws_policies=("AdministratorAccess", "AWSCompromisedKeyQuarantineV3"),
                        keys=(KeySpec(20, 0), KeySpec(30, 1, active=False)),
                    ),
                    UserSpec(
                        "reader",
                        aws_policies=("ReadOnlyAccess", "AWSCompromisedKeyQuarantineV2"),
                        keys=(KeySpec(10, 0),),
                    ),
                    UserSpec("mimic", keys=(KeySpec(10, 0),)),
                ),
            ),
        )
    )
    admin_iam = admin_client(simulator, "iam", account)
    mimic = admin_iam.create_policy(PolicyName="AWSCompromisedKeyQuarantineV2", PolicyDocument=READ_S3)
    admin_iam.attach_user_policy(UserName="mimic", PolicyArn=mimic["Policy"]["Arn"])
    monkeypatch.setenv("ACCOUNT_IDS", account)
    monkeypatch.setenv("EXTERNAL_ID", DEMO_EXTERNAL_ID)
    out = tmp_path / "out"

    # When the job runs
    request = RunRequest(source="manual", run_id="exposed", baseline=True)
    run_job(request, bootstrap(local_dir=out), lambda: NOW, "r", Outputs())

    # Then each quarantined user's active key is exposed: the admin's raised high -> critical, with the
    # reason; the reader's stays high; the inactive key and the mimic are not flagged as exposed
    report = json.loads((out / "report.json").read_text())
    exposed = {
        entry["access_key_id"]: (entry["user_name"], entry["base_severity"], entry["severity"])
        for entry in report["findings"]
        if entry["rule_id"] == "access_key_exposed"
    }
    assert exposed == {
        key_ids[(account, "deploy", 0)]: ("deploy", "high", "critical"),
        key_ids[(account, "reader", 0)]: ("reader", "high", "high"),
    }
    deploy = next(entry for entry in report["findings"] if entry["rule_id"] == "access_key_exposed")
    assert (deploy["privileged"], deploy["privileged_reason"]) == (
        True,
        "AdministratorAccess attached directly",
    )
    assert report["summary"]["findings"]["by_severity"]["critical"] == 1
    # And its remediation reads the key's last use, then deactivates that key
    assert deploy["remediation"]["commands"][:2] == [
        f"aws iam get-access-key-last-used --access-key-id {deploy['access_key_id']}",
        f"aws iam update-access-key --user-name deploy --access-key-id {deploy['access_key_id']} "
        "--status Inactive",
    ]
