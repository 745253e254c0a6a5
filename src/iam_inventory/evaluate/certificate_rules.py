"""Rules on SSH public keys (CodeCommit) and X.509 signing certificates, the root user's included.

No CIS v3.0.0 control, Security Hub control or Prowler check names them (CIS 1.4 and IAM.4 are the root
user's access keys; 1.14 and IAM.3 rotate access keys): each rule says "none". A certificate known only
from the credential report's cert_N columns (no id) gets a stable stand-in id, `report-<upload time>`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from iam_inventory.evaluate.cis import CIS_NONE_FOR_OTHER_CREDENTIALS, CisMapping
from iam_inventory.evaluate.credential_remedies import (
    REPORT_ONLY_PREFIX,
    delete_inactive_credential,
    retire_credential,
)
from iam_inventory.evaluate.registry import Rule, RuleRegistry, Scope, days_between
from iam_inventory.evaluate.remediation import root_console
from iam_inventory.models import AccountInventory, Finding, Severity, Thresholds
from iam_inventory.models.credentials import CredentialType, SigningCertificate

SSH_AND_CERTIFICATE_RULES = RuleRegistry()
_NO_CIS = CIS_NONE_FOR_OTHER_CREDENTIALS
_SSH = CredentialType.SSH_KEY
_CERT = CredentialType.SIGNING_CERTIFICATE


def certificate_ref(certificate: SigningCertificate) -> str:
    """The certificate's id, or a stable stand-in when only the credential report's columns are known."""
    return certificate.certificate_id or f"{REPORT_ONLY_PREFIX}{certificate.uploaded_at:%Y%m%dT%H%M%SZ}"


@SSH_AND_CERTIFICATE_RULES.register(
    "ssh_key_too_old",
    title="Active SSH public key older than the maximum age",
    severity=Severity.MEDIUM,
    cis=_NO_CIS,
    scope=Scope.CREDENTIAL,
    credential=_SSH,
    equivalent="none",
    remedy=retire_credential(
        _SSH, "it is older than the maximum age; upload a new key and switch the git client to it first"
    ),
)
def check_ssh_key_age(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Active SSH public keys older than the key-age maximum (age > max)."""
    limit = thresholds.max_key_age_days
    for user in inventory.users:
        for key in user.ssh_public_keys:
            age = days_between(key.uploaded_at, now)
            if key.active and age > limit:
                yield rule.finding(
                    inventory,
                    user=user,
                    credential_id=key.ssh_public_key_id,
                    measured=age,
                    threshold=limit,
                    unit="days",
                    message=f"SSH public key {key.ssh_public_key_id} of user {user.user_name} is {age} "
                    f"days old (maximum {limit})",
                )


@SSH_AND_CERTIFICATE_RULES.register(
    "signing_certificate_too_old",
    title="Active signing certificate older than the maximum age",
    severity=Severity.MEDIUM,
    cis=_NO_CIS,
    scope=Scope.CREDENTIAL,
    credential=_CERT,
    equivalent="none",
    remedy=retire_credential(
        _CERT,
        "it is older than the maximum age, and X.509 signing certificates serve only legacy SOAP and "
        "EC2 bundling APIs",
    ),
)
def check_signing_certificate_age(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Active signing certificates older than the key-age maximum (age > max)."""
    limit = thresholds.max_key_age_days
    for user in inventory.users:
        for certificate in user.signing_certificates:
            age = days_between(certificate.uploaded_at, now)
            if certificate.active and age > limit:
                yield rule.finding(
                    inventory,
                    user=user,
                    credential_id=certificate_ref(certificate),
                    measured=age,
                    threshold=limit,
                    unit="days",
                    message=f"Signing certificate {certificate_ref(certificate)} of user {user.user_name} "
                    f"is {age} days old (maximum {limit})",
                    verified_live=not certificate.from_report,
                )


@SSH_AND_CERTIFICATE_RULES.register(
    "root_signing_certificate_active",
    title="Root user has an active signing certificate",
    severity=Severity.CRITICAL,
    cis=CisMapping("", "", "none: 1.4 names root access keys only; the same risk for a root certificate"),
    scope=Scope.ROOT,
    credential=_CERT,
    equivalent="none",
    remedy=root_console(
        ", open Security credentials, deactivate the root X.509 signing certificate and then delete it. "
        "This is done in the console only: no CLI command."
    ),
)
def check_root_signing_certificate(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """The root user with an active signing certificate (the credential report's root cert_N_active)."""
    if inventory.root_signing_certificate_active:
        yield rule.finding(
            inventory,
            measured=1,
            threshold=0,
            unit="certificates",
            message="The root user has an active signing certificate",
            verified_live=not inventory.root_from_report,
        )


@SSH_AND_CERTIFICATE_RULES.register(
    "inactive_ssh_key",
    title="Inactive SSH public key still present",
    severity=Severity.LOW,
    cis=_NO_CIS,
    scope=Scope.CREDENTIAL,
    credential=_SSH,
    equivalent="none",
    remedy=delete_inactive_credential(_SSH),
)
def check_inactive_ssh_keys(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Inactive SSH public keys never deleted; measured, the key's age."""
    for user in inventory.users:
        for key in user.ssh_public_keys:
            if not key.active:
                age = days_between(key.uploaded_at, now)
                yield rule.finding(
                    inventory,
                    user=user,
                    credential_id=key.ssh_public_key_id,
                    measured=age,
                    threshold=0,
                    unit="days",
                    message=f"Inactive SSH public key {key.ssh_public_key_id} of user {user.user_name} "
                    f"({age} days old) should be deleted",
                )


@SSH_AND_CERTIFICATE_RULES.register(
    "inactive_signing_certificate",
    title="Inactive signing certificate still present",
    severity=Severity.LOW,
    cis=_NO_CIS,
    scope=Scope.CREDENTIAL,
    credential=_CERT,
    equivalent="none",
    remedy=delete_inactive_credential(_CERT),
)
def check_inactive_signing_certificates(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Inactive signing certificates never deleted; measured, the certificate's age."""
    for user in inventory.users:
        for certificate in user.signing_certificates:
            if not certificate.active:
                age = days_between(certificate.uploaded_at, now)
                yield rule.finding(
                    inventory,
                    user=user,
                    credential_id=certificate_ref(certificate),
                    measured=age,
                    threshold=0,
                    unit="days",
                    message=f"Inactive signing certificate {certificate_ref(certificate)} of user "
                    f"{user.user_name} ({age} days old) should be deleted",
                    verified_live=not certificate.from_report,
                )
