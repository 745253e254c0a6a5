"""The bench responder's answers for the credentials beside keys: service-specific credentials, SSH keys
and signing certificates, in IAM's wire format (the simulator's layers hold the faithful versions).

Each returns the inside of the operation's <...Result> element; the responder wraps it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import quote

from bench.estate import BenchAccount, BenchUser

# The inline policy of a CodeCommit user, URL-encoded as GetAccountAuthorizationDetails returns documents.
_CODECOMMIT_POLICY = quote(
    json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "codecommit:GitPull", "Resource": "*"}],
        }
    )
)


def iso(value: datetime) -> str:
    """IAM's timestamp format (whole seconds, Z)."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def user_policy_list(user: BenchUser) -> str:
    """The UserPolicyList of a user's UserDetail: the CodeCommit policy, or nothing."""
    if not user.codecommit:
        return "<UserPolicyList/>"
    return (
        "<UserPolicyList><member><PolicyName>git</PolicyName>"
        f"<PolicyDocument>{_CODECOMMIT_POLICY}</PolicyDocument></member></UserPolicyList>"
    )


def list_service_specific_credentials(account: BenchAccount, form: dict[str, str]) -> str:
    """ListServiceSpecificCredentials with AllUsers=true, paged by Marker (an offset) and MaxItems."""
    # The job lists with AllUsers=true only; a per-user listing is not simulated here.
    listed = account.users if form.get("AllUsers") == "true" else ()
    items = [(user, index) for user in listed for index in range(user.api_keys)]
    start, size = int(form.get("Marker", "0")), int(form.get("MaxItems", "100"))
    members = "".join(
        f"<member><UserName>{user.name}</UserName><Status>Active</Status>"
        f"<ServiceName>bedrock.amazonaws.com</ServiceName>"
        f"<ServiceCredentialAlias>{user.name}-at-{account.account_id}</ServiceCredentialAlias>"
        f"<CreateDate>{iso(user.created_at + timedelta(days=1 + index))}</CreateDate>"
        f"<ServiceSpecificCredentialId>ACCA{account.account_id}{user.user_id[-5:]}{index}"
        "</ServiceSpecificCredentialId></member>"
        for user, index in items[start : start + size]
    )
    more = start + size < len(items)
    marker = f"<Marker>{start + size}</Marker>" if more else ""
    return (
        f"<ServiceSpecificCredentials>{members}</ServiceSpecificCredentials>"
        f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>{marker}"
    )


def list_ssh_public_keys(user: BenchUser) -> str:
    """ListSSHPublicKeys for one user (ids, status, upload date: IAM lists no key body)."""
    members = "".join(
        f"<member><UserName>{user.name}</UserName><SSHPublicKeyId>APKA{user.user_id[4:]}{index}</SSHPublicKeyId>"
        f"<Status>Active</Status><UploadDate>{iso(user.created_at + timedelta(days=2))}</UploadDate></member>"
        for index in range(user.ssh_keys)
    )
    return f"<SSHPublicKeys>{members}</SSHPublicKeys><IsTruncated>false</IsTruncated>"


def certificate_uploaded(user: BenchUser) -> datetime:
    """When the user's certificate was uploaded (the report's cert_1_last_rotated)."""
    return user.created_at + timedelta(days=3)


def list_signing_certificates(user: BenchUser) -> str:
    """ListSigningCertificates for one user; IAM returns each (public) body, which the job drops."""
    members = "".join(
        f"<member><UserName>{user.name}</UserName><CertificateId>CERT{user.user_id[4:]}{index}</CertificateId>"
        "<CertificateBody>-----BEGIN CERTIFICATE-----\nBENCH\n-----END CERTIFICATE-----</CertificateBody>"
        f"<Status>Active</Status><UploadDate>{iso(certificate_uploaded(user))}</UploadDate></member>"
        for index in range(user.certificates)
    )
    return f"<Certificates>{members}</Certificates><IsTruncated>false</IsTruncated>"


def certificate_columns(user: BenchUser, report_date: Callable[[datetime], str]) -> list[str]:
    """The report's cert_1_active, cert_1_last_rotated, cert_2_active, cert_2_last_rotated."""
    if not user.certificates:
        return ["false", "N/A", "false", "N/A"]
    return ["true", report_date(certificate_uploaded(user)), "false", "N/A"]
