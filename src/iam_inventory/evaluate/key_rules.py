"""Access key rules: exposure, age, use and count (CIS 1.11-1.14), each registered with its facts.

Key status and creation come live from ListAccessKeys; last use may come from the credential report,
which is why the use rules name their evidence (re-read live by collect/verify.py when stale).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from iam_inventory.evaluate.cis import CIS_1_12, CIS_1_13, CIS_1_14, CisMapping
from iam_inventory.evaluate.privilege import aws_managed_name
from iam_inventory.evaluate.registry import Evidence, Rule, RuleRegistry, Scope, days_between
from iam_inventory.evaluate.remediation import delete_inactive_key, keep_one_key, retire_key
from iam_inventory.models import AccessKey, AccountInventory, Finding, IamUser, Severity, Thresholds
from iam_inventory.models.credentials import CredentialType

ACCESS_KEY_RULES = RuleRegistry()
# The policies AWS attaches to an IAM user when it finds the user's key exposed in public (a code
# repository, a paste): they deny a fixed list of abuse actions (RunInstances, CreateAccessKey, ...) and
# nothing else, so the key keeps reading data until someone rotates it, which AWS asks the customer to do.
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSCompromisedKeyQuarantineV3.html
QUARANTINE_POLICIES: frozenset[str] = frozenset(
    {"AWSCompromisedKeyQuarantine", "AWSCompromisedKeyQuarantineV2", "AWSCompromisedKeyQuarantineV3"}
)


@ACCESS_KEY_RULES.register(
    "access_key_exposed",
    title="Active access key on a user AWS quarantined for exposed credentials",
    severity=Severity.HIGH,
    cis=CisMapping("", "", "new in mapping 3; no CIS control covers AWS's exposed-key quarantine"),
    scope=Scope.CREDENTIAL,
    remedy=retire_key(
        "AWS found a key of this user exposed in public and quarantined the user; do it now, without "
        "waiting for a review, and follow the AWS support case (leave the quarantine policy attached "
        "until it is closed)",
        exposed=True,
    ),
    credential=CredentialType.ACCESS_KEY,
    equivalent="none",
)
def check_key_exposed(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Active keys of a user AWS quarantined because a key of theirs was found exposed in public.

    AWS names the exposed key only in its notice, not in IAM, so every active key of the user is
    flagged: a key created after the exposure is still held by whoever can act as the user.
    Measured: the quarantine policies attached (their names are in the message).
    """
    for user in inventory.users:
        quarantine = sorted(
            {name for name in map(aws_managed_name, user.attached_policies) if name in QUARANTINE_POLICIES}
        )
        if not quarantine:
            continue
        for key in user.access_keys:
            if key.active:
                message = (
                    f"User {user.user_name} is quarantined by AWS for exposed credentials "
                    f"({', '.join(quarantine)}) and access key {key.access_key_id} is still active"
                )
                yield rule.finding(
                    inventory,
                    user=user,
                    access_key_id=key.access_key_id,
                    measured=len(quarantine),
                    threshold=0,
                    unit="policies",
                    message=message,
                )


@ACCESS_KEY_RULES.register(
    "access_key_too_old",
    title="Active access key older than the maximum age",
    severity=Severity.MEDIUM,
    cis=CIS_1_14,
    scope=Scope.CREDENTIAL,
    remedy=retire_key(
        "it is older than the maximum age; if the workload still needs a key, create a new one and "
        "switch the workload to it first"
    ),
    credential=CredentialType.ACCESS_KEY,
    equivalent="Security Hub IAM.3; Prowler iam_rotate_access_key_90_days",
)
def check_key_age(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Active keys older than the maximum age: age > max, so a key exactly at the limit passes (CIS 1.14)."""
    limit = thresholds.max_key_age_days
    for user, key in _active_keys(inventory.users):
        age = days_between(key.created_at, now)
        if age > limit:
            message = f"Access key is {age} days old (maximum {limit})"
            yield rule.finding(
                inventory,
                user=user,
                access_key_id=key.access_key_id,
                measured=age,
                threshold=limit,
                unit="days",
                message=message,
            )


@ACCESS_KEY_RULES.register(
    "access_key_unused",
    title="Active access key not used within the window",
    severity=Severity.MEDIUM,
    cis=CIS_1_12,
    scope=Scope.CREDENTIAL,
    remedy=retire_key("it has not been used within the window"),
    evidence=Evidence.KEY_LAST_USE,
    credential=CredentialType.ACCESS_KEY,
    equivalent="Security Hub IAM.22; Prowler iam_user_accesskey_unused",
)
def check_key_unused(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Active keys last used `unused_key_days` or more ago (CIS 1.12: "45 days or greater")."""
    limit = thresholds.unused_key_days
    for user, key in _active_keys(inventory.users):
        if key.last_use.used_at is None:
            continue  # never-used keys are access_key_never_used's concern
        idle = days_between(key.last_use.used_at, now)
        if idle >= limit:
            yield rule.finding(
                inventory,
                user=user,
                access_key_id=key.access_key_id,
                measured=idle,
                threshold=limit,
                unit="days",
                message=f"Access key last used {idle} days ago (window {limit})",
                verified_live=not key.last_use_from_report,
            )


@ACCESS_KEY_RULES.register(
    "access_key_never_used",
    title="Active access key never used after the grace period",
    severity=Severity.MEDIUM,
    cis=CisMapping(
        CIS_1_12.control,
        CIS_1_12.title,
        "was 1.11, which is about keys created at a console user's initial setup, not about use",
    ),
    scope=Scope.CREDENTIAL,
    remedy=retire_key("it has never been used"),
    evidence=Evidence.KEY_LAST_USE,
    credential=CredentialType.ACCESS_KEY,
    equivalent="Security Hub IAM.22 (a never-used key is unused)",
)
def check_key_never_used(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Active keys never used and older than the grace period (CIS 1.11)."""
    grace = thresholds.never_used_grace_days
    for user, key in _active_keys(inventory.users):
        if not key.last_use.never_used:
            continue
        age = days_between(key.created_at, now)
        if age > grace:
            yield rule.finding(
                inventory,
                user=user,
                access_key_id=key.access_key_id,
                measured=age,
                threshold=grace,
                unit="days",
                message=f"Access key created {age} days ago has never been used (grace {grace})",
                verified_live=not key.last_use_from_report,
            )


@ACCESS_KEY_RULES.register(
    "user_two_active_keys",
    title="User has two active access keys",
    severity=Severity.LOW,
    cis=CIS_1_13,
    scope=Scope.USER,
    remedy=keep_one_key,
    credential=CredentialType.ACCESS_KEY,
    equivalent="Prowler iam_user_two_active_access_key",
)
def check_two_active_keys(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Users with more than one active key (CIS 1.13)."""
    for user in inventory.users:
        active = sum(1 for key in user.access_keys if key.active)
        if active > 1:
            message = f"User {user.user_name} has {active} active access keys"
            yield rule.finding(
                inventory, user=user, measured=active, threshold=1, unit="keys", message=message
            )


@ACCESS_KEY_RULES.register(
    "inactive_access_key",
    title="Inactive access key still present",
    severity=Severity.LOW,
    cis=CisMapping(
        "", "", "was 1.12; an inactive key is already disabled, which is what 1.12 asks: hygiene only"
    ),
    scope=Scope.CREDENTIAL,
    remedy=delete_inactive_key,
    credential=CredentialType.ACCESS_KEY,
    equivalent="none",
)
def check_inactive_keys(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Inactive keys that were never deleted; measured value is the key's age."""
    for user in inventory.users:
        for key in user.access_keys:
            if not key.active:
                age = days_between(key.created_at, now)
                yield rule.finding(
                    inventory,
                    user=user,
                    access_key_id=key.access_key_id,
                    measured=age,
                    threshold=0,
                    unit="days",
                    message=f"Inactive access key ({age} days old) should be deleted",
                )


def _active_keys(users: Iterable[IamUser]) -> Iterator[tuple[IamUser, AccessKey]]:
    for user in users:
        for key in user.access_keys:
            if key.active:
                yield user, key
