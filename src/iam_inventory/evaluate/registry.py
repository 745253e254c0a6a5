"""The rule record: one place per rule for everything the job says or does about it.

A rule module keeps a `RuleRegistry` and registers each check function with its facts, the way Cloud
Custodian registers its filters (`@filters.register("name")`): id, title, severity, CIS control, the
evidence that must be re-read live when it came from a stale credential report, what the finding points
at (the account's root user, an IAM user, or one credential of a user) and how to remediate it. Every
list that used to repeat rule ids (CIS mappings, remediation, privilege raise, verification, the plan,
titles, the report schema) is derived from these records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from iam_inventory.core.errors import IamInventoryError
from iam_inventory.evaluate.cis import CisMapping
from iam_inventory.evaluate.remediation import RemedyBuilder
from iam_inventory.models import AccountInventory, Finding, IamUser, Severity, Thresholds
from iam_inventory.models.credentials import CredentialType


class UnknownRule(IamInventoryError, KeyError):
    """A rule id that no rule module registered."""


class Scope(StrEnum):
    """What a rule's finding points at."""

    ROOT = "root"  # the account's root user: no user name, no credential id
    USER = "user"  # an IAM user as a whole (two active keys, a console login)
    CREDENTIAL = "credential"  # one credential of a user (an access key): retired by the plan


class Evidence(StrEnum):
    """The live read that confirms a finding resting on a credential report older than the run."""

    ROOT = "root"  # GetAccountSummary
    MFA = "mfa"  # ListMFADevices
    PASSWORD = "password"  # GetUser (PasswordLastUsed) and GetLoginProfile
    KEY_LAST_USE = "key_last_use"  # GetAccessKeyLastUsed


Check = Callable[["Rule", AccountInventory, Thresholds, datetime], Iterable[Finding]]


def finding_id(account_id: str, user_name: str | None, access_key_id: str | None, rule_id: str) -> str:
    """Stable id of a finding: the same problem keeps the same id from run to run."""
    material = "|".join((account_id, user_name or "", access_key_id or "", rule_id))
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def days_between(earlier: datetime, later: datetime) -> int:
    """Whole days elapsed from `earlier` to `later` (never negative)."""
    return max(0, (later - earlier).days)


@dataclass(frozen=True, slots=True)
class Rule:
    """Everything about one rule; `findings` runs its check, `finding` builds one of its findings."""

    rule_id: str
    title: str
    severity: Severity
    cis: CisMapping
    scope: Scope
    remedy: RemedyBuilder
    check: Check = field(repr=False)
    # None: the finding is always read live (ListAccessKeys status and dates, attached policies).
    evidence: Evidence | None = None
    # The kind of credential the finding is about (None: none, e.g. root MFA); report rows carry it.
    credential: CredentialType | None = None
    # The Security Hub control or Prowler check that flags the same thing, or "none".
    equivalent: str = "none"

    @property
    def cis_control(self) -> str:
        """The CIS v3.0.0 control this rule evidences ("" when none fits)."""
        return self.cis.control

    @property
    def raised_when_privileged(self) -> bool:
        """A finding about a user's credentials is one level worse when the user is admin-equivalent."""
        # An admin-equivalent console login without MFA (or a forgotten admin password) is the same risk
        # as a stale admin key: whoever holds it owns the account. Root findings are critical already.
        return self.scope is not Scope.ROOT

    def findings(self, inventory: AccountInventory, thresholds: Thresholds, now: datetime) -> list[Finding]:
        """This rule's findings in one account."""
        return list(self.check(self, inventory, thresholds, now))

    def finding(
        self,
        inventory: AccountInventory,
        *,
        user: IamUser | None = None,
        access_key_id: str | None = None,
        credential_id: str | None = None,
        measured: int,
        threshold: int,
        unit: str,
        message: str,
        verified_live: bool = True,
    ) -> Finding:
        """One finding of this rule, its id derived from where it points (the key's or credential's id)."""
        user_name = user.user_name if user else None
        pointed = access_key_id or credential_id
        return Finding(
            finding_id=finding_id(inventory.account_id, user_name, pointed, self.rule_id),
            rule_id=self.rule_id,
            severity=self.severity,
            cis_control=self.cis_control,
            account_id=inventory.account_id,
            user_name=user_name,
            access_key_id=access_key_id,
            measured_value=measured,
            threshold=threshold,
            unit=unit,
            message=message,
            tags=dict(user.tags) if user else {},
            verified_live=verified_live,
            credential_id=credential_id,
        )


class RuleRegistry:
    """Rules in registration order, looked up by id; registering an id twice is an error."""

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self._rules: dict[str, Rule] = {}
        for rule in rules:
            self.add(rule)

    def add(self, rule: Rule) -> Rule:
        """Register one rule record."""
        if rule.rule_id in self._rules:
            raise ValueError(f"rule {rule.rule_id!r} is registered twice")
        self._rules[rule.rule_id] = rule
        return rule

    def register(
        self,
        rule_id: str,
        *,
        title: str,
        severity: Severity,
        cis: CisMapping,
        scope: Scope,
        remedy: RemedyBuilder,
        evidence: Evidence | None = None,
        credential: CredentialType | None = None,
        equivalent: str = "none",
    ) -> Callable[[Check], Check]:
        """Decorator: register the check function under `rule_id` with the rule's facts."""

        def decorate(check: Check) -> Check:
            self.add(
                Rule(rule_id, title, severity, cis, scope, remedy, check, evidence, credential, equivalent)
            )
            return check

        return decorate

    def __getitem__(self, rule_id: str) -> Rule:
        try:
            return self._rules[rule_id]
        except KeyError:
            raise UnknownRule(f"no rule {rule_id!r} is registered") from None

    def get(self, rule_id: str) -> Rule | None:
        """The rule, or None for an id no module registered (an older or newer report's rule)."""
        return self._rules.get(rule_id)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)

    @property
    def ids(self) -> tuple[str, ...]:
        """Every registered rule id, in registration order."""
        return tuple(self._rules)

    def merged(self, *others: RuleRegistry) -> RuleRegistry:
        """One registry holding this one's rules, then each other's, in order."""
        return RuleRegistry([rule for registry in (self, *others) for rule in registry])
