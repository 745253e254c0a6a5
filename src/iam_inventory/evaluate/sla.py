"""Lifecycle of a finding: days open since first seen, the SLA for its severity, and whether it is overdue."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from iam_inventory.core.errors import IamInventoryError
from iam_inventory.models import SEVERITY_ORDER, Severity

DEFAULT_SLA_DAYS: dict[Severity, int] = {
    Severity.CRITICAL: 7,
    Severity.HIGH: 30,
    Severity.MEDIUM: 90,
    Severity.LOW: 180,
}
MAX_SLA_DAYS = 3650


class SlaConfigError(IamInventoryError, ValueError):
    """An SLA table (SLA_DAYS) is invalid; the message names the severity and what is wrong."""


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """Days allowed to fix a finding, per severity."""

    days: Mapping[Severity, int] = field(default_factory=lambda: dict(DEFAULT_SLA_DAYS), hash=False)

    def days_for(self, severity: Severity) -> int:
        """The SLA in days for a severity."""
        return self.days[severity]


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """How long a finding has been open and whether it is past its SLA."""

    first_seen: date
    days_open: int
    sla_days: int
    due_on: date
    overdue: bool


def parse_sla_days(value: str | Mapping[str, Any] | None) -> SlaPolicy:
    """An SlaPolicy from SLA_DAYS (JSON object of severity -> days); missing severities keep defaults."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return SlaPolicy()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise SlaConfigError(f"not JSON ({error.msg})") from None
    if not isinstance(value, Mapping):
        raise SlaConfigError('must be a JSON object such as {"critical": 7, "high": 30}')
    days = dict(DEFAULT_SLA_DAYS)
    for name, raw in value.items():
        try:
            severity = Severity(name)
        except ValueError:
            known = ", ".join(level.value for level in SEVERITY_ORDER)
            raise SlaConfigError(f"{name}: unknown severity (use {known})") from None
        if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_SLA_DAYS:
            raise SlaConfigError(f"{name}: must be a whole number of days from 1 to {MAX_SLA_DAYS}")
        days[severity] = raw
    for more, less in itertools.pairwise(SEVERITY_ORDER):
        if days[more] > days[less]:
            raise SlaConfigError(
                f"{more.value}: {days[more]} days is longer than {less.value} ({days[less]}); "
                "a more severe finding must not get more time"
            )
    return SlaPolicy(days)


def lifecycle(severity: Severity, first_seen: datetime | date, today: date, policy: SlaPolicy) -> Lifecycle:
    """Days open (calendar days from first seen to today) and overdue once past the SLA."""
    seen = first_seen.date() if isinstance(first_seen, datetime) else first_seen
    days_open = max(0, (today - seen).days)
    sla_days = policy.days_for(severity)
    return Lifecycle(
        first_seen=seen,
        days_open=days_open,
        sla_days=sla_days,
        due_on=seen + timedelta(days=sla_days),
        # Due on the last SLA day itself: overdue from the day after.
        overdue=days_open > sla_days,
    )
