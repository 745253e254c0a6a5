"""SSH public keys, signing certificates and service-specific credentials, seen alike by the rules that
judge a credential by its age or by its being left behind inactive."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from iam_inventory.evaluate.credential_remedies import REPORT_ONLY_PREFIX
from iam_inventory.evaluate.registry import Rule, days_between
from iam_inventory.models import AccountInventory, Finding, IamUser
from iam_inventory.models.credentials import CredentialType, ServiceCredential, SigningCertificate

_SERVICES = {
    "bedrock.amazonaws.com": "Bedrock API key",
    "logs.amazonaws.com": "CloudWatch Logs API key",
    "codecommit.amazonaws.com": "CodeCommit Git credential",
    "cassandra.amazonaws.com": "Keyspaces credential",
}


@dataclass(frozen=True, slots=True)
class HeldCredential:
    """One credential a user holds: who, which (its id), what a person calls it, since when, its status."""

    user: IamUser
    credential_id: str
    name: str
    created_at: datetime
    active: bool
    status: str  # as IAM spells it: Active, Inactive, Expired
    # False when only the credential report knows it (a certificate without its id).
    verified_live: bool = True


def service_label(credential: ServiceCredential) -> str:
    """What a person calls the credential: "Bedrock API key", "CodeCommit Git credential", ..."""
    return _SERVICES.get(
        credential.service_name, f"service-specific credential for {credential.service_name}"
    )


def service_credential_name(credential: ServiceCredential, user: IamUser) -> str:
    """E.g. "Bedrock API key ACCA... (alias) of user bob"."""
    alias = f" ({credential.service_user_name})" if credential.service_user_name else ""
    return f"{service_label(credential)} {credential.credential_id}{alias} of user {user.user_name}"


def certificate_ref(certificate: SigningCertificate) -> str:
    """The certificate's id, or a stable stand-in when only the credential report's columns are known."""
    return certificate.certificate_id or f"{REPORT_ONLY_PREFIX}{certificate.uploaded_at:%Y%m%dT%H%M%SZ}"


def held(inventory: AccountInventory, kind: CredentialType) -> Iterator[HeldCredential]:
    """Every credential of `kind` the account's users hold."""
    for user in inventory.users:
        if kind is CredentialType.SSH_KEY:
            for key in user.ssh_public_keys:
                name = f"SSH public key {key.ssh_public_key_id} of user {user.user_name}"
                yield HeldCredential(
                    user, key.ssh_public_key_id, name, key.uploaded_at, key.active, key.status
                )
        elif kind is CredentialType.SIGNING_CERTIFICATE:
            for certificate in user.signing_certificates:
                ref = certificate_ref(certificate)
                yield HeldCredential(
                    user,
                    ref,
                    f"Signing certificate {ref} of user {user.user_name}",
                    certificate.uploaded_at,
                    certificate.active,
                    certificate.status,
                    verified_live=not certificate.from_report,
                )
        elif kind is CredentialType.SERVICE_CREDENTIAL:
            for credential in user.service_credentials:
                name = service_credential_name(credential, user)
                yield HeldCredential(
                    user,
                    credential.credential_id,
                    name,
                    credential.created_at,
                    credential.active,
                    credential.status,
                )
        else:
            raise ValueError(f"{kind}: not a held credential kind")


def too_old(
    rule: Rule, inventory: AccountInventory, kind: CredentialType, limit: int, now: datetime
) -> Iterator[Finding]:
    """Active credentials of `kind` older than `limit` days (age > limit: one at the limit passes)."""
    for credential in held(inventory, kind):
        age = days_between(credential.created_at, now)
        if credential.active and age > limit:
            yield rule.finding(
                inventory,
                user=credential.user,
                credential_id=credential.credential_id,
                measured=age,
                threshold=limit,
                unit="days",
                message=f"{credential.name} is {age} days old (maximum {limit})",
                verified_live=credential.verified_live,
            )


def left_behind(
    rule: Rule, inventory: AccountInventory, kind: CredentialType, now: datetime
) -> Iterator[Finding]:
    """Inactive (or expired) credentials of `kind` never deleted; measured, the credential's age."""
    for credential in held(inventory, kind):
        if not credential.active:
            age = days_between(credential.created_at, now)
            yield rule.finding(
                inventory,
                user=credential.user,
                credential_id=credential.credential_id,
                measured=age,
                threshold=0,
                unit="days",
                message=f"{credential.name} is {credential.status.lower()} ({age} days old) "
                "and should be deleted",
                verified_live=credential.verified_live,
            )
