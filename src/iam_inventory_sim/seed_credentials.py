"""Plant the credentials beside access keys: service-specific credentials, SSH keys, signing certificates.

Each is created through the IAM API (so the simulator's quotas and checks apply), then dated back as
no IAM API can, like access keys are.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from iam_inventory_sim.estate import PlantedIds, UserSpec
from iam_inventory_sim.service_credentials import backdate_service_credential


def plant_user_credentials(iam: Any, account_id: str, user: UserSpec, now: datetime, ids: PlantedIds) -> None:
    """The user's inline policies, service credentials, SSH keys and certificates, dated from `now`."""
    for name, document in user.inline_policies.items():
        iam.put_user_policy(UserName=user.name, PolicyName=name, PolicyDocument=json.dumps(document))
    for index, spec in enumerate(user.service_credentials):
        extra = {} if spec.lifetime_days is None else {"CredentialAgeDays": spec.lifetime_days}
        created = iam.create_service_specific_credential(
            UserName=user.name, ServiceName=spec.service, **extra
        )["ServiceSpecificCredential"]
        credential_id = created["ServiceSpecificCredentialId"]
        ids[(account_id, user.name, f"service:{index}")] = credential_id
        if not spec.active:
            iam.update_service_specific_credential(
                UserName=user.name, ServiceSpecificCredentialId=credential_id, Status="Inactive"
            )
        backdate_service_credential(account_id, user.name, credential_id, _days_before(now, spec.age_days))
    for index, upload in enumerate(user.ssh_keys):
        body = f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{account_id}{index:02d}{user.name[:8]} {user.name}@sim"
        key = iam.upload_ssh_public_key(UserName=user.name, SSHPublicKeyBody=body)["SSHPublicKey"]
        ids[(account_id, user.name, f"ssh:{index}")] = key["SSHPublicKeyId"]
        if not upload.active:
            iam.update_ssh_public_key(
                UserName=user.name, SSHPublicKeyId=key["SSHPublicKeyId"], Status="Inactive"
            )
        _backdate_upload(
            account_id, user.name, "ssh", key["SSHPublicKeyId"], _days_before(now, upload.age_days)
        )
    for index, upload in enumerate(user.signing_certificates):
        body = certificate_body(f"{account_id}/{user.name}/{index}")
        cert = iam.upload_signing_certificate(UserName=user.name, CertificateBody=body)["Certificate"]
        ids[(account_id, user.name, f"cert:{index}")] = cert["CertificateId"]
        if not upload.active:
            iam.update_signing_certificate(
                UserName=user.name, CertificateId=cert["CertificateId"], Status="Inactive"
            )
        _backdate_upload(
            account_id, user.name, "cert", cert["CertificateId"], _days_before(now, upload.age_days)
        )


def plant_root_signing_certificate(account_id: str, uploaded_at: datetime) -> None:
    """Give the root user a signing certificate (root's own calls are not simulated: set it directly)."""
    from moto.iam.models import SigningCertificate, iam_backends

    backend = iam_backends[account_id]["aws"]
    certificate = SigningCertificate(f"ROOTCERT{account_id}", "<root_account>", certificate_body(account_id))
    certificate.upload_date = _naive(uploaded_at)
    backend.root_signing_certificates = [certificate]
    # GetAccountSummary's AccountSigningCertificatesPresent: "1 if the root user has a signing certificate".
    backend.account_summary._account_signing_certificates_present = 1


def remove_root_signing_certificate(account_id: str) -> None:
    """Delete the root user's signing certificate, as root would signed in to the console."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account_id]["aws"]
    backend.root_signing_certificates = []
    backend.account_summary._account_signing_certificates_present = 0


def _backdate_upload(account_id: str, user_name: str, kind: str, item_id: str, uploaded_at: datetime) -> None:
    from moto.iam.models import iam_backends

    user = iam_backends[account_id]["aws"].users[user_name]
    if kind == "ssh":
        item = next(key for key in user.ssh_public_keys if key.ssh_public_key_id == item_id)
    else:
        item = user.signing_certificates[item_id]
    item.upload_date = _naive(uploaded_at)


def certificate_body(subject: str) -> str:
    """A self-signed X.509 certificate (PEM) naming `subject`: IAM accepts only well-formed ones."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject[:64])])
    start = datetime(2020, 1, 1, tzinfo=UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(_signing_key().public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3650 * 2))
        .sign(_signing_key(), hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@cache
def _signing_key() -> Any:
    # One RSA key per process (generating one costs ~50 ms); each certificate differs by serial/subject.
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _days_before(now: datetime, days: int) -> datetime:
    return (now - timedelta(days=days, hours=1)).replace(microsecond=0)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0)  # moto stores naive UTC datetimes
