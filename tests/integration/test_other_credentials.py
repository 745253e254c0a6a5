"""Service-specific credentials, SSH keys and signing certificates, collected through the simulator.

Each test seeds IAM through its API (moto plus the simulator's layers), runs the job's own unit of work
(scan_account) and checks what it read, what it called, and what it found.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest

from iam_inventory.collect import credentials
from iam_inventory.collect.credentials import unreadable_warning
from iam_inventory.config.settings import Settings
from iam_inventory.models import AccountResult, CredentialType, RunResult
from iam_inventory.publish.document import build_report
from iam_inventory.publish.render.schema import report_schema_errors
from iam_inventory_sim import DEMO_EXTERNAL_ID, AccountSpec, Fault, SimRequest, UserSpec, admin_client
from iam_inventory_sim.estate import CODECOMMIT_POLICY, ServiceCredentialSpec, UploadSpec
from iam_inventory_sim.seed_credentials import remove_root_signing_certificate
from tests.integration.conftest import record_requests, scan_in_memory

ACCOUNT = "111111111111"
BEDROCK, LOGS, CODECOMMIT = "bedrock.amazonaws.com", "logs.amazonaws.com", "codecommit.amazonaws.com"


def run(run_id: str = "other-credentials") -> RunResult:
    """One dry run on the fast path (the credential report) with tags on."""
    settings = Settings.from_env(
        {**os.environ, "ACCOUNT_IDS": ACCOUNT, "EXTERNAL_ID": DEMO_EXTERNAL_ID, "USER_TAG_KEYS": "owner"}
    )
    return scan_in_memory(settings, run_id, (ACCOUNT,))


def scanned(result: RunResult) -> AccountResult:
    (only,) = result.accounts
    assert only.status.value == "scanned", only.error_message
    assert only.inventory is not None
    return only


def users_of(result: RunResult) -> dict:
    inventory = scanned(result).inventory
    assert inventory is not None
    return {user.user_name: user for user in inventory.users}


def found(result: RunResult) -> set[tuple[str | None, str]]:
    return {(f.user_name, f.rule_id) for f in result.findings}


def test_an_all_users_listing_over_two_pages_reads_every_credential(seed, simulator, monkeypatch):
    # Given three service credentials of two users, and pages of two (the job asks for 1,000; IAM's
    # MaxItems and Marker page the same way at any size, and the simulator pages as IAM does)
    seed(
        (
            AccountSpec(
                ACCOUNT,
                "prod",
                users=(
                    UserSpec(
                        "genai",
                        service_credentials=(
                            ServiceCredentialSpec(BEDROCK, 10),
                            ServiceCredentialSpec(LOGS, 10, lifetime_days=30),
                        ),
                    ),
                    UserSpec("git", service_credentials=(ServiceCredentialSpec(CODECOMMIT, 10),)),
                ),
            ),
        )
    )
    monkeypatch.setattr(credentials, "PAGE_SIZE", 2)
    listings = record_requests(simulator, "ListServiceSpecificCredentials")

    # When the account is scanned
    users = users_of(run())

    # Then two AllUsers calls were made, the second from the first one's Marker, and none per user
    assert len(listings) == 2
    assert [(r.params.get("AllUsers"), r.params.get("MaxItems")) for r in listings] == [("true", "2")] * 2
    assert "Marker" not in listings[0].params
    assert listings[1].params["Marker"]
    assert all("UserName" not in request.params for request in listings)
    # And every credential is in the inventory, with its service and expiry (a never-expiring key has none)
    assert sorted((c.service_name, c.expires_at is None) for c in users["genai"].service_credentials) == [
        (BEDROCK, True),
        (LOGS, False),
    ]
    assert [c.service_name for c in users["git"].service_credentials] == [CODECOMMIT]
    assert all(c.status == "Active" and c.credential_id for c in users["genai"].service_credentials)
    # And the Bedrock key that never expires is found
    assert ("genai", "api_key_never_expires") in found(run("again"))


@pytest.mark.parametrize("operation", ["ListSSHPublicKeys", "ListSigningCertificates"])
def test_a_user_deleted_between_the_listing_and_a_per_user_call_drops_out(seed, simulator, operation):
    # Given a CodeCommit user with an SSH key and a certificate (no access key: the new call is the
    # first per-user call), and a user who stays
    holder = UserSpec(
        "leaving",
        inline_policies={"git": CODECOMMIT_POLICY},
        ssh_keys=(UploadSpec(400),),
        signing_certificates=(UploadSpec(400),),
    )
    staying = UserSpec("staying", signing_certificates=(UploadSpec(400),))
    seed((AccountSpec(ACCOUNT, "prod", users=(holder, staying)),))

    # And an admin who deletes "leaving" just as the job's `operation` call for that user arrives
    def delete_then_answer(request: SimRequest) -> Fault | None:
        if request.action == operation and request.params.get("UserName") == "leaving":
            from moto.iam.models import iam_backends

            iam_backends[ACCOUNT]["aws"].users.pop("leaving", None)
        return None

    simulator.faults.rules.append(delete_then_answer)

    # When the account is scanned
    result = run()

    # Then IAM answered NoSuchEntity, the user is left out, the account is scanned and the other user kept
    users = users_of(result)
    assert set(users) == {"staying"}
    assert {user for user, _ in found(result)} == {"staying"}
    assert scanned(result).warnings == ()


OLDER_SPOKE_ESTATE = (
    AccountSpec(
        ACCOUNT,
        "prod",
        users=(
            UserSpec(
                "dev-git",
                inline_policies={"git": CODECOMMIT_POLICY},
                ssh_keys=(UploadSpec(400),),
                service_credentials=(ServiceCredentialSpec(CODECOMMIT, 30),),
            ),
            UserSpec("genai", service_credentials=(ServiceCredentialSpec(BEDROCK, 10),)),
            UserSpec("soap", signing_certificates=(UploadSpec(900),)),
        ),
    ),
)
NEW_CALLS = {
    "ListServiceSpecificCredentials": CredentialType.SERVICE_CREDENTIAL,
    "ListSSHPublicKeys": CredentialType.SSH_KEY,
    "ListSigningCertificates": CredentialType.SIGNING_CERTIFICATE,
}


@pytest.mark.parametrize("operation", list(NEW_CALLS))
def test_an_older_spoke_stack_denying_a_new_call_is_still_scanned_and_says_to_update(
    seed, simulator, operation
):
    # Given a spoke role from a stack older than `operation`: IAM answers AccessDenied to it
    seed(OLDER_SPOKE_ESTATE)

    def deny(request: SimRequest) -> Fault | None:
        if request.action == operation and request.caller_account == ACCOUNT:
            return Fault(
                "AccessDenied",
                f"User: arn:aws:sts::{ACCOUNT}:assumed-role/IAMListRole/iam-inventory is not authorized "
                f"to perform: iam:{operation}",
                status=403,
            )
        return None

    simulator.faults.rules.append(deny)

    # When the account is scanned
    result = run()

    # Then the account is scanned, and its one warning names the kind not read and says to update the stack
    outcome = scanned(result)
    kind = NEW_CALLS[operation]
    assert outcome.warnings == (unreadable_warning(kind),)
    assert f"iam:{operation}" in outcome.warnings[0]
    assert "update the spoke stack" in outcome.warnings[0]
    assert outcome.inventory is not None
    assert outcome.inventory.unreadable_credential_kinds == (kind,)
    # And the job asked once and took no for an answer (no call per user once the first was denied)
    assert simulator.faults.operations[f"iam:{operation}"] == 1
    # And the kinds it may read were read and found; the denied kind's findings are missing, except the
    # certificate's, which the credential report's cert columns still show (without an id, not live)
    expected = {
        CredentialType.SSH_KEY: ("dev-git", "ssh_key_too_old"),
        CredentialType.SERVICE_CREDENTIAL: ("genai", "api_key_never_expires"),
        CredentialType.SIGNING_CERTIFICATE: ("soap", "signing_certificate_too_old"),
    }
    assert found(result) == set(expected.values()) - (
        set() if kind is CredentialType.SIGNING_CERTIFICATE else {expected[kind]}
    )
    if kind is CredentialType.SIGNING_CERTIFICATE:
        (finding,) = [f for f in result.findings if f.rule_id == "signing_certificate_too_old"]
        assert not finding.verified_live
        assert finding.credential_id.startswith("report-")
    # And report.json carries the warning and still validates
    report = build_report(result)
    assert report_schema_errors(report) == []
    assert report["accounts"][0]["warnings"] == list(outcome.warnings)


def test_a_cached_report_with_a_certificate_deleted_since_is_verified_live(seed, simulator):
    # Given a user and the root user with old signing certificates, found by a run that made the report
    seed(
        (
            AccountSpec(
                ACCOUNT,
                "prod",
                root_signing_certificate_days=800,
                users=(UserSpec("soap", signing_certificates=(UploadSpec(900),)), UserSpec("other")),
            ),
        )
    )
    first = run("fresh")
    assert found(first) == {
        ("soap", "signing_certificate_too_old"),
        (None, "root_signing_certificate_active"),
    }

    # When both certificates are deleted and a run finds the report cached (COMPLETE, still showing them)
    iam = admin_client(simulator, "iam", ACCOUNT)
    (certificate,) = iam.list_signing_certificates(UserName="soap")["Certificates"]
    iam.delete_signing_certificate(UserName="soap", CertificateId=certificate["CertificateId"])
    remove_root_signing_certificate(ACCOUNT)
    certificate_calls = record_requests(simulator, "ListSigningCertificates")
    cached = run("cached")

    # Then the report was the cached one, and still showed both certificates
    assert scanned(cached).report_generated_at == scanned(first).report_generated_at
    # And the user's certificate was re-listed live (ListSigningCertificates for the user whose row shows
    # one, only), and the root's confirmed with GetAccountSummary: neither finding stands
    assert [request.params["UserName"] for request in certificate_calls] == ["soap"]
    assert found(cached) == set()
    assert users_of(cached)["soap"].signing_certificates == ()
    assert scanned(cached).verification_calls == 1  # GetAccountSummary, for the root candidate


def test_a_root_certificate_still_present_on_a_cached_report_stands_verified(seed, simulator):
    # Given a root signing certificate, and a second run that finds the report cached
    seed((AccountSpec(ACCOUNT, "prod", root_signing_certificate_days=800),))
    run("fresh")

    # When it runs again within 4 hours
    cached = run("cached")

    # Then the finding stands, confirmed live by GetAccountSummary
    (finding,) = cached.findings
    assert (finding.rule_id, finding.verified_live) == ("root_signing_certificate_active", True)
    assert scanned(cached).verification_calls == 1


def test_an_api_key_that_expires_while_runs_go_on_turns_from_active_to_expired(seed, simulator):
    # Given a Bedrock API key created 5 days ago with a 10-day lifetime
    seed(
        (
            AccountSpec(
                ACCOUNT,
                "prod",
                users=(UserSpec("genai", service_credentials=(ServiceCredentialSpec(BEDROCK, 5, 10),)),),
            ),
        )
    )

    # When a run reads it
    (before,) = users_of(run("before"))["genai"].service_credentials
    # Then it is Active, expires in 5 days, and no rule fires (a lifetime of 10 days is within 90)
    assert before.status == "Active"
    assert before.expires_at is not None
    assert before.expires_at - before.created_at == timedelta(days=10)

    # When AWS time (the simulator's clock) passes the expiry and the job runs again
    simulator.clock.advance(timedelta(days=6))
    after_run = run("after")

    # Then IAM lists the same key as Expired, and it is an expired credential still present
    (after,) = users_of(after_run)["genai"].service_credentials
    assert (after.credential_id, after.status, after.expires_at) == (
        before.credential_id,
        "Expired",
        before.expires_at,
    )
    assert found(after_run) == {("genai", "inactive_service_credential")}
    assert "expired" in after_run.findings[0].message


CODECOMMIT_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "codecommit:*", "Resource": "*"}],
}
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
S3_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


def test_ssh_keys_are_read_only_for_users_whose_policies_allow_codecommit(seed, simulator):
    # Given five users with an old SSH key each: CodeCommit allowed by an inline policy, by a group's
    # policy, by codecommit:*, by "*", and a user with none (an s3-only policy)
    key = (UploadSpec(400),)
    seed(
        (
            AccountSpec(
                ACCOUNT,
                "prod",
                users=(
                    UserSpec("inline", inline_policies={"git": CODECOMMIT_POLICY}, ssh_keys=key),
                    UserSpec("grouped", ssh_keys=key),
                    UserSpec("wildcard", inline_policies={"git": CODECOMMIT_ALL}, ssh_keys=key),
                    UserSpec("everything", inline_policies={"all": EVERYTHING}, ssh_keys=key),
                    UserSpec("none", inline_policies={"s3": S3_ONLY}, ssh_keys=key),
                ),
            ),
        )
    )
    iam = admin_client(simulator, "iam", ACCOUNT)
    iam.create_group(GroupName="git-users")
    iam.put_group_policy(
        GroupName="git-users", PolicyName="git", PolicyDocument=json.dumps(CODECOMMIT_POLICY)
    )
    iam.add_user_to_group(GroupName="git-users", UserName="grouped")
    ssh_calls = record_requests(simulator, "ListSSHPublicKeys")

    # When the account is scanned
    result = run()

    # Then ListSSHPublicKeys was called for the first four users only, once each
    asked = sorted(request.params["UserName"] for request in ssh_calls)
    assert asked == ["everything", "grouped", "inline", "wildcard"]
    # And their keys are in the inventory and found too old; the fifth user's key was never read
    users = users_of(result)
    for name in asked:
        assert users[name].ssh_keys_read
        assert len(users[name].ssh_public_keys) == 1
    assert (users["none"].ssh_keys_read, users["none"].ssh_public_keys) == (False, ())
    assert {user for user, rule in found(result) if rule == "ssh_key_too_old"} == set(asked)
