"""Findings: pure functions of an account inventory, the thresholds and `now`.

The CIS control of each rule is data, in cis.py (benchmark version and per-rule review notes).
`verified_live` on a finding says whether its evidence was read live in this run or came from the
credential report; the collector confirms report-based candidates live when the report predates the run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from iam_inventory.evaluate.cis import cis_control
from iam_inventory.evaluate.privilege import aws_managed_name
from iam_inventory.models import AccessKey, AccountInventory, Finding, IamUser, Severity, Thresholds


@dataclass(frozen=True, slots=True)
class Rule:
    """Static description of a rule: id, severity and what it means; its CIS control comes from cis.py."""

    rule_id: str
    severity: Severity
    title: str

    @property
    def cis_control(self) -> str:
        """The CIS v3.0.0 control this rule evidences ("" when none fits)."""
        return cis_control(self.rule_id)


ACCESS_KEY_EXPOSED = Rule(
    "access_key_exposed", Severity.HIGH, "Active access key on a user AWS quarantined for exposed credentials"
)
ACCESS_KEY_TOO_OLD = Rule(
    "access_key_too_old", Severity.MEDIUM, "Active access key older than the maximum age"
)
ACCESS_KEY_UNUSED = Rule("access_key_unused", Severity.MEDIUM, "Active access key not used within the window")
ACCESS_KEY_NEVER_USED = Rule(
    "access_key_never_used", Severity.MEDIUM, "Active access key never used after the grace period"
)
USER_TWO_ACTIVE_KEYS = Rule("user_two_active_keys", Severity.LOW, "User has two active access keys")
CONSOLE_USER_WITHOUT_MFA = Rule(
    "console_user_without_mfa", Severity.HIGH, "Console user without an MFA device"
)
CONSOLE_PASSWORD_UNUSED = Rule(
    "console_password_unused", Severity.MEDIUM, "Console password not used within the window"
)
ROOT_ACCESS_KEY_PRESENT = Rule("root_access_key_present", Severity.CRITICAL, "Root user has an access key")
ROOT_MFA_DISABLED = Rule("root_mfa_disabled", Severity.CRITICAL, "Root user without MFA")
INACTIVE_ACCESS_KEY = Rule("inactive_access_key", Severity.LOW, "Inactive access key still present")

RULES: tuple[Rule, ...] = (
    ROOT_ACCESS_KEY_PRESENT,
    ROOT_MFA_DISABLED,
    CONSOLE_USER_WITHOUT_MFA,
    CONSOLE_PASSWORD_UNUSED,
    ACCESS_KEY_EXPOSED,
    ACCESS_KEY_TOO_OLD,
    ACCESS_KEY_UNUSED,
    ACCESS_KEY_NEVER_USED,
    USER_TWO_ACTIVE_KEYS,
    INACTIVE_ACCESS_KEY,
)
RULE_IDS: tuple[str, ...] = tuple(rule.rule_id for rule in RULES)
# The policies AWS attaches to an IAM user when it finds the user's key exposed in public (a code
# repository, a paste): they deny a fixed list of abuse actions (RunInstances, CreateAccessKey, ...) and
# nothing else, so the key keeps reading data until someone rotates it, which AWS asks the customer to do.
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSCompromisedKeyQuarantineV3.html
QUARANTINE_POLICIES: frozenset[str] = frozenset(
    {"AWSCompromisedKeyQuarantine", "AWSCompromisedKeyQuarantineV2", "AWSCompromisedKeyQuarantineV3"}
)


def finding_id(account_id: str, user_name: str | None, access_key_id: str | None, rule_id: str) -> str:
    """Stable id of a finding: the same problem keeps the same id from run to run."""
    material = "|".join((account_id, user_name or "", access_key_id or "", rule_id))
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def days_between(earlier: datetime, later: datetime) -> int:
    """Whole days elapsed from `earlier` to `later` (never negative)."""
    return max(0, (later - earlier).days)


def _finding(
    rule: Rule,
    inventory: AccountInventory,
    user: IamUser | None,
    key: AccessKey | None,
    measured: int,
    threshold: int,
    unit: str,
    message: str,
    verified_live: bool = True,
) -> Finding:
    user_name = user.user_name if user else None
    key_id = key.access_key_id if key else None
    return Finding(
        finding_id=finding_id(inventory.account_id, user_name, key_id, rule.rule_id),
        rule_id=rule.rule_id,
        severity=rule.severity,
        cis_control=rule.cis_control,
        account_id=inventory.account_id,
        user_name=user_name,
        access_key_id=key_id,
        measured_value=measured,
        threshold=threshold,
        unit=unit,
        message=message,
        tags=dict(user.tags) if user else {},
        verified_live=verified_live,
    )


def check_root_access_key(
    inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Root user with any access key (CIS 1.4)."""
    if inventory.root_access_keys_present:
        message = "The root user has an access key"
        live = not inventory.root_from_report
        yield _finding(ROOT_ACCESS_KEY_PRESENT, inventory, None, None, 1, 0, "keys", message, live)


def check_root_mfa(inventory: AccountInventory, thresholds: Thresholds, now: datetime) -> Iterator[Finding]:
    """Root user without MFA who can sign in with a password (CIS 1.5): 0 MFA devices against 1.

    A root with no password (root_password_present False) cannot sign in to fix it: e.g. its credentials
    were deleted through AWS Organizations' centralized root access, which leaves no password, keys,
    certificates or MFA, and the inventory shows root_credentials_removed instead of a finding.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#id_root-user-access-management
    """
    if not inventory.root_mfa_enabled and inventory.root_password_present is not False:
        message = "The root user has no MFA device"
        live = not inventory.root_from_report
        yield _finding(ROOT_MFA_DISABLED, inventory, None, None, 0, 1, "mfa_devices", message, live)


def check_console_mfa(
    inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Users who can sign in to the console without MFA (CIS 1.10)."""
    for user in inventory.users:
        if user.console_access and not user.mfa_enabled:
            message = f"User {user.user_name} has a console password and no MFA device"
            live = not user.console_from_report
            yield _finding(
                CONSOLE_USER_WITHOUT_MFA, inventory, user, None, 0, 1, "mfa_devices", message, live
            )


def check_password_unused(
    inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Console passwords not used for `unused_key_days` or more (CIS 1.12: "45 days or greater").

    A password never used is measured from when it was set (else from the user's creation).
    """
    limit = thresholds.unused_key_days
    for user in inventory.users:
        if not user.console_access:
            continue
        since = user.password_last_used or user.password_changed_at or user.created_at
        idle = days_between(since, now)
        if idle >= limit:
            used = "last used" if user.password_last_used else "never used, set"
            message = f"Console password of {user.user_name} {used} {idle} days ago (window {limit})"
            live = not user.console_from_report
            yield _finding(CONSOLE_PASSWORD_UNUSED, inventory, user, None, idle, limit, "days", message, live)


def check_key_exposed(
    inventory: AccountInventory, thresholds: Thresholds, now: datetime
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
                yield _finding(
                    ACCESS_KEY_EXPOSED, inventory, user, key, len(quarantine), 0, "policies", message
                )


def check_key_age(inventory: AccountInventory, thresholds: Thresholds, now: datetime) -> Iterator[Finding]:
    """Active keys older than the maximum age: age > max, so a key exactly at the limit passes (CIS 1.14)."""
    limit = thresholds.max_key_age_days
    for user, key in _active_keys(inventory.users):
        age = days_between(key.created_at, now)
        if age > limit:
            message = f"Access key is {age} days old (maximum {limit})"
            yield _finding(ACCESS_KEY_TOO_OLD, inventory, user, key, age, limit, "days", message)


def check_key_unused(inventory: AccountInventory, thresholds: Thresholds, now: datetime) -> Iterator[Finding]:
    """Active keys last used `unused_key_days` or more ago (CIS 1.12: "45 days or greater")."""
    limit = thresholds.unused_key_days
    for user, key in _active_keys(inventory.users):
        if key.last_use.used_at is None:
            continue  # never-used keys are access_key_never_used's concern
        idle = days_between(key.last_use.used_at, now)
        if idle >= limit:
            message = f"Access key last used {idle} days ago (window {limit})"
            live = not key.last_use_from_report
            yield _finding(ACCESS_KEY_UNUSED, inventory, user, key, idle, limit, "days", message, live)


def check_key_never_used(
    inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Active keys never used and older than the grace period (CIS 1.11)."""
    grace = thresholds.never_used_grace_days
    for user, key in _active_keys(inventory.users):
        if not key.last_use.never_used:
            continue
        age = days_between(key.created_at, now)
        if age > grace:
            message = f"Access key created {age} days ago has never been used (grace {grace})"
            live = not key.last_use_from_report
            yield _finding(ACCESS_KEY_NEVER_USED, inventory, user, key, age, grace, "days", message, live)


def check_two_active_keys(
    inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Users with more than one active key (CIS 1.13)."""
    for user in inventory.users:
        active = sum(1 for key in user.access_keys if key.active)
        if active > 1:
            message = f"User {user.user_name} has {active} active access keys"
            yield _finding(USER_TWO_ACTIVE_KEYS, inventory, user, None, active, 1, "keys", message)


def check_inactive_keys(
    inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Inactive keys that were never deleted; measured value is the key's age."""
    for user in inventory.users:
        for key in user.access_keys:
            if not key.active:
                age = days_between(key.created_at, now)
                message = f"Inactive access key ({age} days old) should be deleted"
                yield _finding(INACTIVE_ACCESS_KEY, inventory, user, key, age, 0, "days", message)


Check = Callable[[AccountInventory, Thresholds, datetime], Iterable[Finding]]

CHECKS: tuple[Check, ...] = (
    check_root_access_key,
    check_root_mfa,
    check_console_mfa,
    check_password_unused,
    check_key_exposed,
    check_key_age,
    check_key_unused,
    check_key_never_used,
    check_two_active_keys,
    check_inactive_keys,
)


def evaluate(inventory: AccountInventory, thresholds: Thresholds, now: datetime) -> list[Finding]:
    """All findings for one account, in rule order."""
    return [finding for check in CHECKS for finding in check(inventory, thresholds, now)]


def _active_keys(users: Iterable[IamUser]) -> Iterator[tuple[IamUser, AccessKey]]:
    for user in users:
        for key in user.access_keys:
            if key.active:
                yield user, key
