"""Findings: pure functions of an account inventory, the thresholds and `now`.

Every rule is one record in a registry (evaluate/registry.py): this module registers the root and
console rules, key_rules.py the access key rules, service_credential_rules.py and certificate_rules.py
the rules on the other credentials, and `RULES` is every rule in report order. Anything that names
rules (CIS mapping, remediation, privilege raise, verification, plan, titles, schema) reads them from
`RULES`. `verified_live` on a finding says whether its evidence was read live in this run or
came from the credential report; the collector confirms report-based candidates live when the report
predates the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from iam_inventory.evaluate.certificate_rules import SSH_AND_CERTIFICATE_RULES
from iam_inventory.evaluate.cis import CIS_1_4, CIS_1_5, CIS_1_10, CIS_1_12, CisMapping
from iam_inventory.evaluate.key_rules import ACCESS_KEY_RULES
from iam_inventory.evaluate.privilege import Privilege, raised_severity
from iam_inventory.evaluate.registry import Evidence, Rule, RuleRegistry, Scope, days_between
from iam_inventory.evaluate.remediation import (
    DEFAULT_WAIT_DAYS,
    Remediation,
    RemedyOptions,
    enable_mfa,
    remove_password,
    review,
    root_console,
)
from iam_inventory.evaluate.service_credential_rules import SERVICE_CREDENTIAL_RULES
from iam_inventory.models import AccountInventory, Finding, Severity, Thresholds
from iam_inventory.models.credentials import CredentialType

SIGN_IN_RULES = RuleRegistry()


@SIGN_IN_RULES.register(
    "root_access_key_present",
    title="Root user has an access key",
    severity=Severity.CRITICAL,
    cis=CIS_1_4,
    scope=Scope.ROOT,
    remedy=root_console(
        ", open Security credentials, deactivate the root access key and then delete it. This is done "
        "in the console only: no CLI command."
    ),
    evidence=Evidence.ROOT,
    credential=CredentialType.ACCESS_KEY,
    equivalent="Security Hub IAM.4; Prowler iam_no_root_access_key",
)
def check_root_access_key(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Root user with any access key (CIS 1.4)."""
    if inventory.root_access_keys_present:
        yield rule.finding(
            inventory,
            measured=1,
            threshold=0,
            unit="keys",
            message="The root user has an access key",
            verified_live=not inventory.root_from_report,
        )


@SIGN_IN_RULES.register(
    "root_mfa_disabled",
    title="Root user without MFA",
    severity=Severity.CRITICAL,
    cis=CIS_1_5,
    scope=Scope.ROOT,
    remedy=root_console(" and assign an MFA device under Security credentials (console only)."),
    evidence=Evidence.ROOT,
    equivalent="Security Hub IAM.9; Prowler iam_root_mfa_enabled",
)
def check_root_mfa(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Root user without MFA who can sign in with a password (CIS 1.5): 0 MFA devices against 1.

    A root with no password (root_password_present False) cannot sign in to fix it: e.g. its credentials
    were deleted through AWS Organizations' centralized root access, which leaves no password, keys,
    certificates or MFA, and the inventory shows root_credentials_removed instead of a finding.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#id_root-user-access-management
    """
    if not inventory.root_mfa_enabled and inventory.root_password_present is not False:
        yield rule.finding(
            inventory,
            measured=0,
            threshold=1,
            unit="mfa_devices",
            message="The root user has no MFA device",
            verified_live=not inventory.root_from_report,
        )


@SIGN_IN_RULES.register(
    "console_user_without_mfa",
    title="Console user without an MFA device",
    severity=Severity.HIGH,
    cis=CIS_1_10,
    scope=Scope.USER,
    remedy=enable_mfa,
    evidence=Evidence.MFA,
    credential=CredentialType.PASSWORD,
    equivalent="Security Hub IAM.5; Prowler iam_user_mfa_enabled_console_access",
)
def check_console_mfa(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Users who can sign in to the console without MFA (CIS 1.10)."""
    for user in inventory.users:
        if user.console_access and not user.mfa_enabled:
            yield rule.finding(
                inventory,
                user=user,
                measured=0,
                threshold=1,
                unit="mfa_devices",
                message=f"User {user.user_name} has a console password and no MFA device",
                verified_live=not user.console_from_report,
            )


@SIGN_IN_RULES.register(
    "console_password_unused",
    title="Console password not used within the window",
    severity=Severity.MEDIUM,
    cis=CisMapping(CIS_1_12.control, CIS_1_12.title, "1.12 covers passwords"),
    scope=Scope.USER,
    remedy=remove_password,
    evidence=Evidence.PASSWORD,
    credential=CredentialType.PASSWORD,
    equivalent="Security Hub IAM.22; Prowler iam_user_console_access_unused",
)
def check_password_unused(
    rule: Rule, inventory: AccountInventory, thresholds: Thresholds, now: datetime
) -> Iterator[Finding]:
    """Console passwords not used for `unused_key_days` or more (CIS 1.12: "45 days or greater").

    A password never used is measured from when it was last set (the report's password_last_changed).
    When that is unknown (the API path), it is not measured: the login profile's or the user's creation
    predates any reset, so an admin's reset of a never-used password would be flagged as long idle.
    """
    limit = thresholds.unused_key_days
    for user in inventory.users:
        since = user.password_last_used or user.password_changed_at
        if not user.console_access or since is None:
            continue
        idle = days_between(since, now)
        if idle >= limit:
            used = "last used" if user.password_last_used else "never used, set"
            yield rule.finding(
                inventory,
                user=user,
                measured=idle,
                threshold=limit,
                unit="days",
                message=f"Console password of {user.user_name} {used} {idle} days ago (window {limit})",
                verified_live=not user.console_from_report,
            )


RULES: RuleRegistry = SIGN_IN_RULES.merged(
    ACCESS_KEY_RULES, SERVICE_CREDENTIAL_RULES, SSH_AND_CERTIFICATE_RULES
)
RULE_IDS: tuple[str, ...] = RULES.ids
ACCESS_KEY_EXPOSED: Rule = RULES["access_key_exposed"]


def evaluate(inventory: AccountInventory, thresholds: Thresholds, now: datetime) -> list[Finding]:
    """All findings for one account, in rule order."""
    return [finding for rule in RULES for finding in rule.findings(inventory, thresholds, now)]


def remediation_for(
    finding: Finding,
    *,
    wait_days: int = DEFAULT_WAIT_DAYS,
    profile: str | None = None,
    partition: str = "aws",
) -> Remediation:
    """The remediation of one finding, with commands for its account, user and key."""
    rule = RULES.get(finding.rule_id)
    if rule is None:  # a rule of another release, read from an older or newer report
        return review(finding)
    return rule.remedy(finding, RemedyOptions(wait_days=wait_days, profile=profile, partition=partition))


def effective_severity(rule_id: str, severity: Severity, privilege: Privilege) -> Severity:
    """A credential finding's severity raised one level for a privileged user; others unchanged."""
    rule = RULES.get(rule_id)
    if privilege.privileged and rule is not None and rule.raised_when_privileged:
        return raised_severity(severity)
    return severity


def rule_title(rule_id: str) -> str:
    """The rule's title, or "" for a rule this release does not know (an older report's)."""
    rule = RULES.get(rule_id)
    return rule.title if rule else ""


def credential_type(rule_id: str) -> str | None:
    """The kind of credential a rule's findings are about ("access_key", ...), or None."""
    rule = RULES.get(rule_id)
    return rule.credential.value if rule and rule.credential else None
