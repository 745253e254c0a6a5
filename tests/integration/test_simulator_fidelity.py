"""The simulator answers as IAM documents, where moto alone would be kinder (see docs/collection.md)."""

from __future__ import annotations

import pytest

from iam_inventory_sim import AccountSpec, KeySpec, UserSpec, admin_client

ACCOUNT = "111111111111"


def test_report_states_follow_the_documented_sequence(seed, simulator):
    # Given an account with no report yet, and report generation that takes one poll
    seed((AccountSpec(ACCOUNT, "prod", users=(UserSpec("alice"),)),))
    iam = admin_client(simulator, "iam", ACCOUNT)
    simulator.credential_reports.in_progress_polls = 1

    # Then: ReportNotPresent before any report, STARTED, ReportInProgress, INPROGRESS, then the report
    with pytest.raises(iam.exceptions.CredentialReportNotPresentException):
        iam.get_credential_report()
    assert iam.generate_credential_report()["State"] == "STARTED"
    assert iam.generate_credential_report()["State"] == "INPROGRESS"
    with pytest.raises(iam.exceptions.CredentialReportNotReadyException):
        iam.get_credential_report()
    report = iam.get_credential_report()
    assert report["Content"].decode().splitlines()[1].startswith("<root_account>,")
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    assert simulator.credential_reports.generations[ACCOUNT] == 1


def test_user_details_are_paged_with_marker_and_carry_tags(seed, simulator):
    # Given five tagged users
    users = tuple(UserSpec(f"u{i}", tags={"owner": f"o{i}"}) for i in range(5))
    seed((AccountSpec(ACCOUNT, "prod", users=users),))
    iam = admin_client(simulator, "iam", ACCOUNT)

    # When they are read two at a time
    pages, marker = [], None
    while True:
        kwargs = {"Marker": marker} if marker else {}
        page = iam.get_account_authorization_details(Filter=["User"], MaxItems=2, **kwargs)
        pages.append([user["UserName"] for user in page["UserDetailList"]])
        if not page["IsTruncated"]:
            break
        marker = page["Marker"]

    # Then IAM's paging holds, and each detail carries its tags
    assert pages == [["u0", "u1"], ["u2", "u3"], ["u4"]]
    assert page["UserDetailList"][0]["Tags"] == [{"Key": "owner", "Value": "o4"}]


def test_key_and_user_dates_are_whole_seconds(seed, simulator):
    # Given a user and a key created through the API
    seed((AccountSpec(ACCOUNT, "prod", users=(UserSpec("alice", keys=(KeySpec(3, 1),)),)),))
    iam = admin_client(simulator, "iam", ACCOUNT)
    created = iam.create_access_key(UserName="alice")["AccessKey"]["CreateDate"]
    # Then, as IAM returns them, they carry no fraction of a second
    listed = iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]
    assert {key["CreateDate"].microsecond for key in listed} == {0}
    assert created.microsecond == 0
    assert iam.get_user(UserName="alice")["User"]["CreateDate"].microsecond == 0


def test_aws_managed_policies_exist_in_every_account_and_are_not_local(seed, simulator):
    # Given two accounts (IAM has every AWS managed policy in every account; moto loads none by default)
    seed((AccountSpec(ACCOUNT, "prod", users=(UserSpec("alice"),)), AccountSpec("222222222222", "dev")))
    iam = admin_client(simulator, "iam", ACCOUNT)
    quarantine = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"

    # When an AWS managed policy is read in one account and attached in the other
    read = admin_client(simulator, "iam", "222222222222").get_policy(PolicyArn=quarantine)["Policy"]
    iam.attach_user_policy(UserName="alice", PolicyArn=quarantine)
    iam.attach_user_policy(
        UserName="alice", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSConfigRulesExecutionRole"
    )

    # Then both work, under AWS's own ARN (path included); a made-up AWS policy is NoSuchEntity
    assert read["Arn"] == quarantine
    details = iam.get_account_authorization_details(Filter=["User", "LocalManagedPolicy"])
    assert [policy["PolicyArn"] for policy in details["UserDetailList"][0]["AttachedManagedPolicies"]] == [
        quarantine,
        "arn:aws:iam::aws:policy/service-role/AWSConfigRulesExecutionRole",
    ]
    # And, as in IAM, Filter=LocalManagedPolicy returns customer policies only
    assert details["Policies"] == []
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.attach_user_policy(UserName="alice", PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.attach_user_policy(
            UserName="alice", PolicyArn="arn:aws:iam::aws:policy/wrong-path/AWSConfigRulesExecutionRole"
        )
