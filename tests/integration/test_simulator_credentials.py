"""The simulator's service-specific credentials, SSH keys and signing certificates, as IAM documents them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from iam_inventory_sim import AccountSpec, UserSpec, admin_client
from iam_inventory_sim.estate import ServiceCredentialSpec, UploadSpec
from iam_inventory_sim.seed_credentials import certificate_body

ACCOUNT = "111111111111"
BEDROCK, LOGS, CODECOMMIT = "bedrock.amazonaws.com", "logs.amazonaws.com", "codecommit.amazonaws.com"


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


def test_all_users_are_listed_in_pages_without_a_service_name(seed, simulator):
    # Given three users with five credentials over three services
    seed((AccountSpec(ACCOUNT, "prod", users=(UserSpec("a"), UserSpec("b"), UserSpec("c"))),))
    iam = admin_client(simulator, "iam", ACCOUNT)
    for user, service in (("a", BEDROCK), ("a", CODECOMMIT), ("b", BEDROCK), ("c", LOGS), ("c", LOGS)):
        iam.create_service_specific_credential(UserName=user, ServiceName=service)

    # When every user's credentials are listed two at a time, with AllUsers and no ServiceName
    pages, marker = [], None
    while True:
        page = iam.list_service_specific_credentials(
            AllUsers=True, MaxItems=2, **({"Marker": marker} if marker else {})
        )
        pages.append([(item["UserName"], item["ServiceName"]) for item in page["ServiceSpecificCredentials"]])
        if not page["IsTruncated"]:
            break
        marker = page["Marker"]

    # Then all five come back over three pages, and ServiceName filters when given
    assert [len(page) for page in pages] == [2, 2, 1]
    assert sorted(item for page in pages for item in page) == sorted(
        [("a", BEDROCK), ("a", CODECOMMIT), ("b", BEDROCK), ("c", LOGS), ("c", LOGS)]
    )
    bedrock = iam.list_service_specific_credentials(AllUsers=True, ServiceName=BEDROCK)
    assert {item["UserName"] for item in bedrock["ServiceSpecificCredentials"]} == {"a", "b"}
    with pytest.raises(ClientError) as both:
        iam.list_service_specific_credentials(AllUsers=True, UserName="a")
    assert _code(both) == "InvalidInput"


def test_expiry_is_only_for_api_keys_and_an_expired_key_says_so(seed, simulator):
    # Given a user with a 1-day Bedrock key, a never-expiring Logs key and a CodeCommit login
    seed((AccountSpec(ACCOUNT, "prod", users=(UserSpec("ml"),)),))
    iam = admin_client(simulator, "iam", ACCOUNT)
    short = iam.create_service_specific_credential(UserName="ml", ServiceName=BEDROCK, CredentialAgeDays=1)
    created = short["ServiceSpecificCredential"]
    never = iam.create_service_specific_credential(UserName="ml", ServiceName=LOGS)[
        "ServiceSpecificCredential"
    ]
    git = iam.create_service_specific_credential(UserName="ml", ServiceName=CODECOMMIT)[
        "ServiceSpecificCredential"
    ]

    # Then only the API key with an age has an ExpirationDate; secrets come once, at creation
    assert created["ExpirationDate"] - created["CreateDate"] == timedelta(days=1)
    assert "ExpirationDate" not in never
    assert created["ServiceCredentialSecret"]
    assert never["ServiceCredentialSecret"]
    assert git["ServicePassword"]
    assert git["ServiceUserName"] == f"ml-at-{ACCOUNT}"
    with pytest.raises(ClientError) as no_age:
        iam.create_service_specific_credential(UserName="ml", ServiceName=CODECOMMIT, CredentialAgeDays=5)
    assert _code(no_age) == "InvalidInput"
    listed = iam.list_service_specific_credentials(UserName="ml")["ServiceSpecificCredentials"]
    assert not any("ServicePassword" in item or "ServiceCredentialSecret" in item for item in listed)
    assert {item["Status"] for item in listed} == {"Active"}

    # When the simulator clock passes the expiry
    simulator.clock.advance(timedelta(days=1, minutes=1))

    # Then the key is Expired and the others are not
    status = {
        item["ServiceSpecificCredentialId"]: item["Status"]
        for item in iam.list_service_specific_credentials(UserName="ml")["ServiceSpecificCredentials"]
    }
    assert status[created["ServiceSpecificCredentialId"]] == "Expired"
    assert status[never["ServiceSpecificCredentialId"]] == "Active"
    assert status[git["ServiceSpecificCredentialId"]] == "Active"


def test_quotas_unknown_users_and_unknown_services_fail_as_iam_does(seed, simulator):
    # Given a user with two CodeCommit credentials
    seed((AccountSpec(ACCOUNT, "prod", users=(UserSpec("dev"),)),))
    iam = admin_client(simulator, "iam", ACCOUNT)
    first = iam.create_service_specific_credential(UserName="dev", ServiceName=CODECOMMIT)
    iam.create_service_specific_credential(UserName="dev", ServiceName=CODECOMMIT)
    credential_id = first["ServiceSpecificCredential"]["ServiceSpecificCredentialId"]

    # Then a third fails LimitExceeded; an unknown user or id NoSuchEntity; an unknown service 404
    with pytest.raises(ClientError) as third:
        iam.create_service_specific_credential(UserName="dev", ServiceName=CODECOMMIT)
    assert _code(third) == "LimitExceeded"
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.list_service_specific_credentials(UserName="nobody")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.create_service_specific_credential(UserName="nobody", ServiceName=CODECOMMIT)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.delete_service_specific_credential(
            UserName="dev", ServiceSpecificCredentialId="ACCANOTTHERE00000000"
        )
    with pytest.raises(iam.exceptions.ServiceNotSupportedException):
        iam.create_service_specific_credential(UserName="dev", ServiceName="s3.amazonaws.com")

    # And update, reset and delete act on the credential
    iam.update_service_specific_credential(
        UserName="dev", ServiceSpecificCredentialId=credential_id, Status="Inactive"
    )
    reset = iam.reset_service_specific_credential(UserName="dev", ServiceSpecificCredentialId=credential_id)
    assert reset["ServiceSpecificCredential"]["ServicePassword"]
    assert reset["ServiceSpecificCredential"]["Status"] == "Inactive"
    iam.delete_service_specific_credential(UserName="dev", ServiceSpecificCredentialId=credential_id)
    assert len(iam.list_service_specific_credentials(UserName="dev")["ServiceSpecificCredentials"]) == 1


def test_ssh_keys_and_certificates_keep_iam_quotas_duplicates_and_paging(seed, simulator):
    # Given a user with five SSH keys (the quota) and a signing certificate
    seed(
        (
            AccountSpec(
                ACCOUNT, "prod", users=(UserSpec("git", ssh_keys=tuple(UploadSpec(i) for i in range(5))),)
            ),
        )
    )
    iam = admin_client(simulator, "iam", ACCOUNT)
    body = certificate_body("duplicate-check")
    iam.upload_signing_certificate(UserName="git", CertificateBody=body)

    # Then a sixth key fails LimitExceeded, and the same certificate again DuplicateCertificate
    with pytest.raises(ClientError) as sixth:
        iam.upload_ssh_public_key(UserName="git", SSHPublicKeyBody="ssh-ed25519 AAAAC3Nzsixth git@sim")
    assert _code(sixth) == "LimitExceeded"
    with pytest.raises(ClientError) as duplicate:
        iam.upload_signing_certificate(UserName="git", CertificateBody=body)
    assert _code(duplicate) == "DuplicateCertificate"
    # And listings page with MaxItems/Marker and carry whole-second dates, no key body
    first = iam.list_ssh_public_keys(UserName="git", MaxItems=3)
    assert first["IsTruncated"] is True
    rest = iam.list_ssh_public_keys(UserName="git", Marker=first["Marker"])
    listed = first["SSHPublicKeys"] + rest["SSHPublicKeys"]
    assert len(listed) == 5
    assert {key["UploadDate"].microsecond for key in listed} == {0}
    assert not any("SSHPublicKeyBody" in key for key in listed)
    certificates = iam.list_signing_certificates(UserName="git")["Certificates"]
    assert certificates[0]["UploadDate"].microsecond == 0


def test_report_cert_columns_show_users_and_root_certificates(seed, simulator, now):
    # Given a user with an active and an inactive certificate, and root with one
    certificates = (UploadSpec(800), UploadSpec(10, active=False))
    seed(
        (
            AccountSpec(
                ACCOUNT,
                "prod",
                users=(UserSpec("legacy", signing_certificates=certificates), UserSpec("plain")),
                root_signing_certificate_days=1000,
            ),
        )
    )
    iam = admin_client(simulator, "iam", ACCOUNT)

    # When the credential report is generated
    iam.generate_credential_report()
    rows = {
        row["user"]: row
        for row in csv.DictReader(io.StringIO(iam.get_credential_report()["Content"].decode()))
    }

    # Then cert_N_active and cert_N_last_rotated show each certificate; N/A where there is none
    legacy = rows["legacy"]
    assert (legacy["cert_1_active"], legacy["cert_2_active"]) == ("true", "false")
    assert legacy["cert_1_last_rotated"].startswith(str((now - timedelta(days=800, hours=1)).date()))
    assert legacy["cert_2_last_rotated"] != "N/A"
    assert (rows["plain"]["cert_1_active"], rows["plain"]["cert_1_last_rotated"]) == ("false", "N/A")
    assert rows["<root_account>"]["cert_1_active"] == "true"
    assert iam.get_account_summary()["SummaryMap"]["AccountSigningCertificatesPresent"] == 1


def test_seeded_credentials_are_dated_back_and_an_old_api_key_has_expired(seed, simulator, now):
    # Given a Logs key created 40 days ago with a 30-day lifetime, and a never-expiring Bedrock key
    spec = UserSpec(
        "ml",
        service_credentials=(ServiceCredentialSpec(LOGS, 40, 30), ServiceCredentialSpec(BEDROCK, 10)),
    )
    ids = seed((AccountSpec(ACCOUNT, "prod", users=(spec,)),))
    iam = admin_client(simulator, "iam", ACCOUNT)

    # Then the listing shows their backdated creation, the Logs key Expired and the Bedrock key Active
    listed = {
        item["ServiceSpecificCredentialId"]: item
        for item in iam.list_service_specific_credentials(UserName="ml")["ServiceSpecificCredentials"]
    }
    logs, bedrock = listed[ids[(ACCOUNT, "ml", "service:0")]], listed[ids[(ACCOUNT, "ml", "service:1")]]
    assert logs["Status"] == "Expired"
    assert logs["ExpirationDate"] - logs["CreateDate"] == timedelta(days=30)
    assert (now - logs["CreateDate"]).days == 40
    assert bedrock["Status"] == "Active"
    assert "ExpirationDate" not in bedrock
