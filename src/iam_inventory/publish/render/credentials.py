"""One inventory of credentials: everything an IAM user can authenticate with, as entries, rows and counts.

Access keys, the console password, service-specific credentials (CodeCommit, Keyspaces, Bedrock and
CloudWatch Logs API keys), SSH public keys and X.509 signing certificates. Only ids, states and dates:
the models hold no secret, so none can reach a report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from iam_inventory.core.clock import iso
from iam_inventory.evaluate.registry import days_between
from iam_inventory.models import IamUser
from iam_inventory.models.credentials import (
    CredentialType,
    ServiceCredential,
    SigningCertificate,
    SshPublicKey,
)

# Appended to the inventory rows (CSV, JSON Lines, Glue) in schema 1.6: one row per credential.
CREDENTIAL_COLUMNS: tuple[str, ...] = (
    "credential_type",
    "credential_id",
    "credential_status",
    "credential_created_at",
    "credential_expires_at",
    "credential_last_used_at",
    "credential_service",
)
# An SSH public key authenticates git over SSH to CodeCommit and nothing else.
SSH_SERVICE = "codecommit.amazonaws.com"


def credential_counts(users: Iterable[IamUser]) -> Counter[tuple[CredentialType, bool]]:
    """(kind, active) -> how many, over `users`."""
    counts: Counter[tuple[CredentialType, bool]] = Counter()
    for user in users:
        counts.update((CredentialType.ACCESS_KEY, key.active) for key in user.access_keys)
        if user.console_access:
            counts[(CredentialType.PASSWORD, True)] += 1
        counts.update((CredentialType.SERVICE_CREDENTIAL, item.active) for item in user.service_credentials)
        counts.update((CredentialType.SSH_KEY, item.active) for item in user.ssh_public_keys)
        counts.update((CredentialType.SIGNING_CERTIFICATE, item.active) for item in user.signing_certificates)
    return counts


def counts_summary(counts: Counter[tuple[CredentialType, bool]]) -> dict[str, dict[str, int]]:
    """The report summary's `credentials`: per kind, how many and how many active."""
    return {
        kind.value: {"total": counts[(kind, True)] + counts[(kind, False)], "active": counts[(kind, True)]}
        for kind in CredentialType
    }


def user_credentials_entry(user: IamUser, now: datetime) -> dict[str, Any]:
    """The fields a report user entry gains in 1.6: the password's date and the other credentials."""
    return {
        "password_changed_at": iso(user.password_changed_at),
        "service_credentials": [_service_entry(item, now) for item in user.service_credentials],
        "ssh_keys_read": user.ssh_keys_read,
        "ssh_public_keys": [_ssh_entry(item, now) for item in user.ssh_public_keys],
        "signing_certificates": [_certificate_entry(item, now) for item in user.signing_certificates],
    }


def _service_entry(item: ServiceCredential, now: datetime) -> dict[str, Any]:
    return {
        "credential_id": item.credential_id,
        "service_name": item.service_name,
        "service_user_name": item.service_user_name,
        "status": item.status,
        "created_at": iso(item.created_at),
        "expires_at": iso(item.expires_at),
        "age_days": days_between(item.created_at, now),
    }


def _ssh_entry(item: SshPublicKey, now: datetime) -> dict[str, Any]:
    return {
        "ssh_public_key_id": item.ssh_public_key_id,
        "status": item.status,
        "uploaded_at": iso(item.uploaded_at),
        "age_days": days_between(item.uploaded_at, now),
    }


def _certificate_entry(item: SigningCertificate, now: datetime) -> dict[str, Any]:
    return {
        "certificate_id": item.certificate_id,
        "status": item.status,
        "uploaded_at": iso(item.uploaded_at),
        "age_days": days_between(item.uploaded_at, now),
        "from_report": item.from_report,
    }


def credential_rows(user: dict[str, Any]) -> Iterator[tuple[dict[str, Any] | None, dict[str, Any]]]:
    """(access key entry or None, credential columns) per credential of a report user entry.

    Reads reports before 1.6 too: their users have only keys and a password.
    """
    for key in user.get("access_keys") or []:
        yield (
            key,
            _columns(
                CredentialType.ACCESS_KEY,
                key["access_key_id"],
                key["status"],
                key["created_at"],
                None,
                key.get("last_used_at"),
                key.get("last_used_service"),
            ),
        )
    if user.get("console_access"):
        changed = user.get("password_changed_at")
        yield (
            None,
            _columns(
                CredentialType.PASSWORD, None, "Active", changed, None, user.get("password_last_used"), None
            ),
        )
    for item in user.get("service_credentials") or []:
        yield (
            None,
            _columns(
                CredentialType.SERVICE_CREDENTIAL,
                item["credential_id"],
                item["status"],
                item["created_at"],
                item.get("expires_at"),
                None,
                item["service_name"],
            ),
        )
    for item in user.get("ssh_public_keys") or []:
        yield (
            None,
            _columns(
                CredentialType.SSH_KEY,
                item["ssh_public_key_id"],
                item["status"],
                item["uploaded_at"],
                None,
                None,
                SSH_SERVICE,
            ),
        )
    for item in user.get("signing_certificates") or []:
        yield (
            None,
            _columns(
                CredentialType.SIGNING_CERTIFICATE,
                item["certificate_id"] or None,
                item["status"],
                item["uploaded_at"],
                None,
                None,
                None,
            ),
        )


def _columns(
    kind: CredentialType,
    credential_id: str | None,
    status: str,
    created: str | None,
    expires: str | None,
    last_used: str | None,
    service: str | None,
) -> dict[str, Any]:
    values = (kind.value, credential_id, status, created, expires, last_used, service)
    return dict(zip(CREDENTIAL_COLUMNS, values, strict=True))
