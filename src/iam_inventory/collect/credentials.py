"""The credentials beside keys and passwords: service-specific credentials, SSH keys, signing certificates.

Calls per account, on top of the keys and passwords (docs/collection.md, "Other credentials"):
- ListServiceSpecificCredentials with AllUsers=true, paged (MaxItems 1000, Marker): one call in the
  usual case. ServiceName is optional ("If not specified, then AWS returns service-specific credentials
  for all services"), so no call per service is needed.
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListServiceSpecificCredentials.html
- ListSSHPublicKeys only for users who may use CodeCommit (collect/codecommit.py): a key authenticates
  to nothing else. https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListSSHPublicKeys.html
- ListSigningCertificates only for users whose report row shows a certificate (cert_N_active or
  cert_N_last_rotated), for its id and live status; every user when there is no report (the API path).
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListSigningCertificates.html
- Root: no call here. The report's root row gives the certificate's status (collect/report_path.py);
  GetAccountSummary's AccountSigningCertificatesPresent, already read on the API path, confirms a cached
  report's candidate live (collect/verify.py, Evidence.ROOT).
A spoke role from an older stack answers AccessDenied to these calls: the account is still scanned, the
kind is named in `unreadable_credential_kinds` and a warning says to update the spoke stack. A user
deleted between the listing and a per-user call (NoSuchEntity) is dropped, as for keys.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from iam_inventory.collect.api import UserGone
from iam_inventory.collect.calls import is_access_denied, is_no_such_entity, map_bounded
from iam_inventory.collect.credential_report import CredentialReport, ReportRow
from iam_inventory.collect.report_path import same_user
from iam_inventory.collect.users import LiveUser
from iam_inventory.core.budget import Deadline
from iam_inventory.core.retry import call_patiently
from iam_inventory.models import (
    AccountInventory,
    CredentialType,
    IamUser,
    ServiceCredential,
    SigningCertificate,
    SshPublicKey,
)

PAGE_SIZE = 1000
T = TypeVar("T")
_WHAT = {
    CredentialType.SERVICE_CREDENTIAL: (
        "ListServiceSpecificCredentials",
        "service-specific credentials (Bedrock/CloudWatch Logs API keys, CodeCommit/Keyspaces logins)",
    ),
    CredentialType.SSH_KEY: ("ListSSHPublicKeys", "SSH public keys"),
    CredentialType.SIGNING_CERTIFICATE: (
        "ListSigningCertificates",
        "signing certificate ids and live status (report columns only)",
    ),
}


def unreadable_warning(kind: CredentialType) -> str:
    """The account warning for a credential kind the spoke role may not read."""
    action, what = _WHAT[kind]
    return (
        f"spoke role lacks iam:{action} (an older spoke stack): {what} were not read; update the spoke stack"
    )


@dataclass(frozen=True, slots=True)
class OtherCredentials:
    """The inventory with the other credential kinds added, and the warnings for kinds not readable."""

    inventory: AccountInventory
    warnings: tuple[str, ...] = ()


def collect_other_credentials(
    iam: BaseClient,
    inventory: AccountInventory,
    live_users: Sequence[LiveUser],
    report: CredentialReport | None,
    concurrency: int,
    deadline: Deadline,
) -> OtherCredentials:
    """Add every user's service credentials, SSH keys and certificates, and root's certificate."""
    unreadable: list[CredentialType] = []
    try:
        services = list_service_credentials(iam, deadline)
    except ClientError as error:
        if not is_access_denied(error):
            raise
        services, unreadable = {}, [CredentialType.SERVICE_CREDENTIAL]
    names = {user.user_name for user in inventory.users}
    codecommit = [
        user.user_name for user in live_users if user.may_use_codecommit and user.user_name in names
    ]
    rows = {} if report is None else {row.user_name: row for row in report.users}
    # No report, or a user the report does not show (created since, or recreated under the same name):
    # list, rather than miss a certificate. Otherwise only users whose row shows one.
    certified = sorted(
        live.user_name
        for live in live_users
        if live.user_name in names
        and (
            report is None
            or (row := rows.get(live.user_name)) is None
            or not same_user(live, row)
            or row.certificates
        )
    )
    ssh = _per_user(lambda name: list_ssh_keys(iam, name, deadline), codecommit, concurrency)
    certificates = _per_user(
        lambda name: list_signing_certificates(iam, name, deadline), certified, concurrency
    )
    if ssh is None:
        unreadable.append(CredentialType.SSH_KEY)
    if certificates is None:
        unreadable.append(CredentialType.SIGNING_CERTIFICATE)
    users = []
    for user in inventory.users:
        name = user.user_name
        keys = None if ssh is None else ssh.get(name, ())
        certs = (
            _report_certificates(rows.get(name), user) if certificates is None else certificates.get(name, ())
        )
        if keys is _GONE or certs is _GONE:
            continue  # deleted between the listing and this call
        users.append(
            replace(
                user,
                service_credentials=services.get(name, ()),
                ssh_public_keys=keys or (),
                ssh_keys_read=keys is not None and name in codecommit,
                signing_certificates=certs,
            )
        )
    return OtherCredentials(
        replace(inventory, users=tuple(users), unreadable_credential_kinds=tuple(unreadable)),
        tuple(unreadable_warning(kind) for kind in unreadable),
    )


def list_service_credentials(iam: BaseClient, deadline: Deadline) -> dict[str, tuple[ServiceCredential, ...]]:
    """Every user's service-specific credentials from the paged AllUsers listing, by user name."""
    found: dict[str, list[ServiceCredential]] = {}
    pages = _pages(iam.list_service_specific_credentials, {"AllUsers": True}, deadline)
    for item in (item for page in pages for item in page.get("ServiceSpecificCredentials", [])):
        found.setdefault(item["UserName"], []).append(
            ServiceCredential(
                credential_id=item["ServiceSpecificCredentialId"],
                service_name=item["ServiceName"],
                # The CodeCommit/Keyspaces user name, or an API key's public alias; never its secret.
                service_user_name=item.get("ServiceUserName") or item.get("ServiceCredentialAlias") or "",
                status=item["Status"],
                created_at=item["CreateDate"],
                expires_at=item.get("ExpirationDate"),
            )
        )
    return {name: tuple(sorted(items, key=lambda item: item.created_at)) for name, items in found.items()}


def _pages(
    call: Callable[..., dict[str, Any]], arguments: dict[str, Any], deadline: Deadline
) -> list[dict[str, Any]]:
    """Every page of an IAM listing, MaxItems 1000 at a time, following Marker while IsTruncated."""
    pages: list[dict[str, Any]] = []
    marker: str | None = None
    while True:
        page = call_patiently(
            partial(call, **arguments, MaxItems=PAGE_SIZE, **({"Marker": marker} if marker else {})), deadline
        )
        pages.append(page)
        if not page.get("IsTruncated"):
            return pages
        marker = page["Marker"]


def list_ssh_keys(iam: BaseClient, user_name: str, deadline: Deadline) -> tuple[SshPublicKey, ...]:
    """The user's SSH public keys (ids and status, never the body); raises UserGone for a deleted user."""
    items = _paged(iam, "list_ssh_public_keys", "SSHPublicKeys", user_name, deadline)
    return tuple(SshPublicKey(item["SSHPublicKeyId"], item["Status"], item["UploadDate"]) for item in items)


def list_signing_certificates(
    iam: BaseClient, user_name: str, deadline: Deadline
) -> tuple[SigningCertificate, ...]:
    """The user's signing certificates (ids and status, never the body); UserGone for a deleted user."""
    items = _paged(iam, "list_signing_certificates", "Certificates", user_name, deadline)
    return tuple(
        SigningCertificate(item["CertificateId"], item["Status"], item["UploadDate"]) for item in items
    )


def _paged(
    iam: BaseClient, operation: str, field: str, user_name: str, deadline: Deadline
) -> list[dict[str, Any]]:
    try:
        pages = _pages(getattr(iam, operation), {"UserName": user_name}, deadline)
    except ClientError as error:
        if is_no_such_entity(error):
            raise UserGone from None
        raise
    return sorted((item for page in pages for item in page[field]), key=lambda item: item["UploadDate"])


_GONE: tuple[Any, ...] = ("gone",)  # a user deleted meanwhile (compared by identity)


def _per_user(
    read: Callable[[str], tuple[T, ...]], names: Sequence[str], concurrency: int
) -> dict[str, tuple[T, ...]] | None:
    """`read` for each user, by name; None when the spoke role may not make the call (older stack)."""

    def one(name: str) -> tuple[Any, ...]:
        try:
            return read(name)
        except UserGone:
            return _GONE

    if not names:
        return {}
    try:
        # The first call alone: an older spoke denies it, and then the others are not made.
        first = one(names[0])
    except ClientError as error:
        if is_access_denied(error):
            return None
        raise
    rest = map_bounded(one, names[1:], concurrency)
    return dict(zip(names, (first, *rest), strict=True))


def _report_certificates(row: ReportRow | None, user: IamUser) -> tuple[SigningCertificate, ...]:
    """What the report's cert columns say, when ListSigningCertificates is denied (no id, maybe old)."""
    if row is None:
        return ()
    return tuple(
        SigningCertificate(
            certificate_id="",
            status="Active" if cert.active else "Inactive",
            # A slot without a date (the report's N/A) is dated no later than the user's creation.
            uploaded_at=cert.uploaded_at or user.created_at,
            from_report=True,
        )
        for cert in row.certificates
    )
