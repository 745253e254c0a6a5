"""Enriched findings for the outputs: severity with privilege, owner, exception, lifecycle and remediation.

Pure: phase 2 of the wiring builds an EnrichmentContext per account (or per run) and calls enrich_findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from iam_inventory.evaluate.exceptions import (
    NO_EXCEPTIONS,
    ExceptionSet,
    FindingScope,
    RiskException,
    apply_exceptions,
)
from iam_inventory.evaluate.owners import OwnerConfig, OwnerSource, resolve_owner
from iam_inventory.evaluate.privilege import NOT_PRIVILEGED, Privilege
from iam_inventory.evaluate.remediation import DEFAULT_WAIT_DAYS, Remediation
from iam_inventory.evaluate.rules import effective_severity, remediation_for
from iam_inventory.evaluate.sla import Lifecycle, SlaPolicy, lifecycle
from iam_inventory.models import SEVERITY_ORDER, AccountResult, Finding, Severity

# Appended to findings.csv after the existing columns, so that those keep their positions.
ENRICHED_CSV_COLUMNS: tuple[str, ...] = (
    "owner",
    "owner_source",
    "privileged",
    "days_open",
    "overdue",
    "suppressed_by",
    "remediation",
    "exception_note",
)
UserKey = tuple[str, str]  # (account_id, user_name)


@dataclass(frozen=True, slots=True)
class EnrichmentConfig:
    """Run-wide settings of the enrichment."""

    owners: OwnerConfig = field(default_factory=OwnerConfig)
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    wait_days: int = DEFAULT_WAIT_DAYS
    partition: str = "aws"


@dataclass(frozen=True, slots=True)
class EnrichmentContext:
    """What the findings do not carry themselves, looked up by account, (account, user) or finding id."""

    ou_paths: Mapping[str, str] = field(default_factory=dict)
    account_tags: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    user_arns: Mapping[UserKey, str] = field(default_factory=dict)
    privileges: Mapping[UserKey, Privilege] = field(default_factory=dict)
    # From the comparison state; a finding missing here is first seen today.
    first_seen: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EnrichedFinding:
    """A finding as the outputs show it; `finding.severity` is the effective (possibly raised) one."""

    finding: Finding
    base_severity: Severity
    owner: str
    owner_source: OwnerSource
    privileged: bool
    privileged_reason: str
    lifecycle: Lifecycle
    remediation: Remediation
    exception: RiskException | None = None
    exception_note: str | None = None

    @property
    def suppressed_by(self) -> str | None:
        """The id of the active exception that suppresses this finding, if any."""
        return None if self.exception_note else (self.exception.exception_id if self.exception else None)


@dataclass(frozen=True, slots=True)
class EnrichmentResult:
    """Active findings (expired exceptions included, with their note), suppressed ones, stale exceptions."""

    active: tuple[EnrichedFinding, ...]
    suppressed: tuple[EnrichedFinding, ...]
    stale_exceptions: tuple[RiskException, ...]


def context_from_results(
    results: Iterable[AccountResult],
    *,
    account_tags: Mapping[str, Mapping[str, str]] | None = None,
    privileges: Mapping[UserKey, Privilege] | None = None,
    first_seen: Mapping[str, datetime] | None = None,
) -> EnrichmentContext:
    """The context of some accounts' findings: OU paths and user ARNs from their results, the rest given."""
    results = list(results)
    return EnrichmentContext(
        ou_paths={item.account.account_id: item.account.ou_path for item in results},
        account_tags=dict(account_tags or {}),
        user_arns={
            (item.account.account_id, user.user_name): user.arn
            for item in results
            if item.inventory is not None
            for user in item.inventory.users
        },
        privileges=dict(privileges or {}),
        first_seen=dict(first_seen or {}),
    )


def enrich_findings(
    findings: Iterable[Finding],
    context: EnrichmentContext,
    today: date,
    config: EnrichmentConfig,
    exceptions: ExceptionSet = NO_EXCEPTIONS,
) -> EnrichmentResult:
    """Raise key findings of privileged users, apply the exceptions, then add owner, SLA and remediation."""
    raised = [_with_privilege(finding, context) for finding in findings]
    base = {finding.finding_id: severity for finding, severity, _ in raised}
    privileges = {finding.finding_id: privilege for finding, _, privilege in raised}

    def scope_of(finding: Finding) -> FindingScope:
        arn = context.user_arns.get((finding.account_id, finding.user_name or ""))
        return FindingScope(ou_path=context.ou_paths.get(finding.account_id, ""), user_arn=arn)

    outcome = apply_exceptions((finding for finding, _, _ in raised), exceptions, today, scope_of)
    expired = {item.finding.finding_id: item for item in outcome.expired}

    def build(finding: Finding, exception: RiskException | None, note: str | None) -> EnrichedFinding:
        owner, source = resolve_owner(
            finding.tags,
            context.account_tags.get(finding.account_id),
            context.ou_paths.get(finding.account_id, ""),
            config.owners,
        )
        privilege = privileges[finding.finding_id]
        first_seen = context.first_seen.get(finding.finding_id, today)
        return EnrichedFinding(
            finding=finding,
            base_severity=base[finding.finding_id],
            owner=owner,
            owner_source=source,
            privileged=privilege.privileged,
            privileged_reason=privilege.reason,
            lifecycle=lifecycle(finding.severity, first_seen, today, config.sla),
            remediation=remediation_for(finding, wait_days=config.wait_days, partition=config.partition),
            exception=exception,
            exception_note=note,
        )

    active = []
    for finding in outcome.active:
        lapsed = expired.get(finding.finding_id)
        active.append(build(finding, lapsed.exception if lapsed else None, lapsed.note if lapsed else None))
    suppressed = [build(item.finding, item.exception, None) for item in outcome.suppressed]
    return EnrichmentResult(tuple(active), tuple(suppressed), outcome.stale)


def enriched_row(item: EnrichedFinding) -> dict[str, Any]:
    """The ENRICHED_CSV_COLUMNS of one finding, typed (the CSV writer makes them text and formula-safe)."""
    return {
        "owner": item.owner,
        "owner_source": item.owner_source.value,
        "privileged": item.privileged,
        "days_open": item.lifecycle.days_open,
        "overdue": item.lifecycle.overdue,
        "suppressed_by": item.suppressed_by or "",
        "remediation": "\n".join((item.remediation.text, *item.remediation.commands)),
        "exception_note": item.exception_note or "",
    }


def enriched_entry(item: EnrichedFinding) -> dict[str, Any]:
    """The enrichment of one finding as JSON fields, to merge into its report.json entry."""
    exception = item.exception
    return {
        "severity": item.finding.severity.value,
        "base_severity": item.base_severity.value,
        "owner": item.owner,
        "owner_source": item.owner_source.value,
        "privileged": item.privileged,
        "privileged_reason": item.privileged_reason or None,
        "days_open": item.lifecycle.days_open,
        "sla_days": item.lifecycle.sla_days,
        "due_on": item.lifecycle.due_on.isoformat(),
        "overdue": item.lifecycle.overdue,
        "suppressed_by": item.suppressed_by,
        "exception_note": item.exception_note,
        "exception": None
        if exception is None
        else {
            "id": exception.exception_id,
            "owner": exception.owner,
            "reason": exception.reason,
            "ticket": exception.ticket,
            "expires": exception.expires.isoformat(),
        },
        "remediation": {
            "text": item.remediation.text,
            "commands": list(item.remediation.commands),
            "console_only": item.remediation.console_only,
        },
    }


def overdue_by_severity(items: Iterable[EnrichedFinding]) -> dict[str, int]:
    """Overdue findings per severity, every severity present (the metrics; pass active findings only)."""
    counts = dict.fromkeys((severity.value for severity in SEVERITY_ORDER), 0)
    for item in items:
        if item.lifecycle.overdue:
            counts[item.finding.severity.value] += 1
    return counts


def _with_privilege(finding: Finding, context: EnrichmentContext) -> tuple[Finding, Severity, Privilege]:
    privilege = NOT_PRIVILEGED
    if finding.user_name is not None:
        privilege = context.privileges.get((finding.account_id, finding.user_name), NOT_PRIVILEGED)
    severity = effective_severity(finding.rule_id, finding.severity, privilege)
    # Most findings keep their severity: no copy of the finding for them.
    raised = finding if severity is finding.severity else replace(finding, severity=severity)
    return raised, finding.severity, privilege
