"""Rules on service-specific credentials: CodeCommit/Keyspaces logins, Bedrock and CloudWatch Logs API keys.

No CIS v3.0.0 control names them: 1.14 (rotation) and 1.12 (unused) are about access keys and
passwords, and Security Hub's IAM.3 checks access keys only. Prowler's
bedrock_api_key_no_long_term_credentials fails every unexpired long-term Bedrock API key (high; critical
when it never expires), which our two API key rules split by cause. Each rule names its equivalent, or "none".
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from iam_inventory.evaluate.cis import CIS_NONE_FOR_OTHER_CREDENTIALS
from iam_inventory.evaluate.credential_remedies import delete_inactive_credential, retire_credential
from iam_inventory.evaluate.held_credentials import left_behind, service_credential_name, too_old
from iam_inventory.evaluate.registry import Rule, RuleRegistry, Scope, days_between
from iam_inventory.models import AccountInventory, Finding, Severity, Thresholds
from iam_inventory.models.credentials import CredentialType

SERVICE_CREDENTIAL_RULES = RuleRegistry()
_NO_CIS = CIS_NONE_FOR_OTHER_CREDENTIALS
_PROWLER_BEDROCK = "Prowler bedrock_api_key_no_long_term_credentials (Bedrock keys only)"
_SERVICE = CredentialType.SERVICE_CREDENTIAL


@SERVICE_CREDENTIAL_RULES.register(
    "api_key_never_expires",
    title="Active API key (Bedrock, CloudWatch Logs) that never expires",
    severity=Severity.HIGH,
    cis=_NO_CIS,
    scope=Scope.CREDENTIAL,
    credential=_SERVICE,
    equivalent=_PROWLER_BEDROCK,
    remedy=retire_credential(
        _SERVICE,
        "it never expires; if the workload still needs one, create a key with an expiry "
        "(--credential-age-days) and switch to it first",
    ),
)
def check_api_key_never_expires(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Active API keys created without an ExpirationDate: measured, its age (threshold: max lifetime)."""
    limit = thresholds.max_api_key_lifetime_days
    for user in inventory.users:
        for credential in user.service_credentials:
            if credential.active and credential.is_api_key and credential.expires_at is None:
                age = days_between(credential.created_at, now)
                yield rule.finding(
                    inventory,
                    user=user,
                    credential_id=credential.credential_id,
                    measured=age,
                    threshold=limit,
                    unit="days",
                    message=f"{service_credential_name(credential, user)} never expires "
                    f"(created {age} days ago)",
                )


@SERVICE_CREDENTIAL_RULES.register(
    "api_key_lifetime_too_long",
    title="Active API key whose lifetime exceeds the maximum",
    severity=Severity.MEDIUM,
    cis=_NO_CIS,
    scope=Scope.CREDENTIAL,
    credential=_SERVICE,
    equivalent=_PROWLER_BEDROCK,
    remedy=retire_credential(
        _SERVICE,
        "it was created to live longer than the maximum API key lifetime; replace it with a key "
        "created with a shorter --credential-age-days first",
    ),
)
def check_api_key_lifetime(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Active API keys whose lifetime (expiry - creation) exceeds the maximum: a key at the limit passes."""
    limit = thresholds.max_api_key_lifetime_days
    for user in inventory.users:
        for credential in user.service_credentials:
            if not (credential.active and credential.is_api_key and credential.expires_at is not None):
                continue
            lifetime = days_between(credential.created_at, credential.expires_at)
            if lifetime > limit:
                yield rule.finding(
                    inventory,
                    user=user,
                    credential_id=credential.credential_id,
                    measured=lifetime,
                    threshold=limit,
                    unit="days",
                    message=f"{service_credential_name(credential, user)} lives {lifetime} days "
                    f"(maximum {limit})",
                )


@SERVICE_CREDENTIAL_RULES.register(
    "service_credential_too_old",
    title="Active service-specific credential older than the maximum age",
    severity=Severity.MEDIUM,
    cis=_NO_CIS,
    scope=Scope.CREDENTIAL,
    credential=_SERVICE,
    equivalent="none (Security Hub IAM.3 and CIS 1.14 rotate access keys only)",
    remedy=retire_credential(
        _SERVICE,
        "it is older than the maximum age; reset or replace it (create a new one, switch the client "
        "to it) first",
    ),
)
def check_service_credential_age(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Active service-specific credentials (any service) older than the key-age maximum (age > max)."""
    return too_old(rule, inventory, _SERVICE, thresholds.max_key_age_days, now)


@SERVICE_CREDENTIAL_RULES.register(
    "inactive_service_credential",
    title="Inactive or expired service-specific credential still present",
    severity=Severity.LOW,
    cis=_NO_CIS,
    scope=Scope.CREDENTIAL,
    credential=_SERVICE,
    equivalent="none",
    remedy=delete_inactive_credential(_SERVICE),
)
def check_inactive_service_credentials(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Inactive or Expired service-specific credentials never deleted; measured, the credential's age."""
    return left_behind(rule, inventory, _SERVICE, now)
