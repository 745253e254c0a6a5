"""Rules on SSH public keys (CodeCommit) and X.509 signing certificates, the root user's included.

No CIS v3.0.0 control, Security Hub control or Prowler check names them (CIS 1.4 and IAM.4 are the root
user's access keys; 1.14 and IAM.3 rotate access keys): each rule says "none". A certificate known only
from the credential report's cert_N columns (no id) gets a stable stand-in id, `report-<upload time>`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from iam_inventory.evaluate.cis import CIS_NONE_FOR_OTHER_CREDENTIALS, CisMapping
from iam_inventory.evaluate.credential_remedies import delete_inactive_credential, retire_credential
from iam_inventory.evaluate.held_credentials import left_behind, too_old
from iam_inventory.evaluate.registry import Evidence, Rule, RuleRegistry, Scope
from iam_inventory.evaluate.remediation import root_console
from iam_inventory.models import AccountInventory, Finding, Severity, Thresholds
from iam_inventory.models.credentials import CredentialType

SSH_AND_CERTIFICATE_RULES = RuleRegistry()
_NO_CIS = CIS_NONE_FOR_OTHER_CREDENTIALS
_SSH = CredentialType.SSH_KEY
_CERT = CredentialType.SIGNING_CERTIFICATE


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
    return too_old(rule, inventory, _SSH, thresholds.max_key_age_days, now)


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
    return too_old(rule, inventory, _CERT, thresholds.max_key_age_days, now)


@SSH_AND_CERTIFICATE_RULES.register(
    "root_signing_certificate_active",
    title="Root user has an active signing certificate",
    severity=Severity.CRITICAL,
    cis=CisMapping("", "", "none: 1.4 names root access keys only; the same risk for a root certificate"),
    scope=Scope.ROOT,
    credential=_CERT,
    # From a cached report: GetAccountSummary's AccountSigningCertificatesPresent confirms it live.
    evidence=Evidence.ROOT,
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
    return left_behind(rule, inventory, _SSH, now)


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
    return left_behind(rule, inventory, _CERT, now)
