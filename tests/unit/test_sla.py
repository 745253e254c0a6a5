"""SLA per severity: validated table, days open and the overdue flag."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from iam_inventory.evaluate.sla import (
    DEFAULT_SLA_DAYS,
    Lifecycle,
    SlaConfigError,
    SlaPolicy,
    lifecycle,
    parse_sla_days,
)
from iam_inventory.models import Severity

TODAY = date(2026, 12, 1)


def test_defaults():
    assert dict(parse_sla_days(None).days) == {
        Severity.CRITICAL: 7,
        Severity.HIGH: 30,
        Severity.MEDIUM: 90,
        Severity.LOW: 180,
    }
    assert dict(parse_sla_days("  ").days) == DEFAULT_SLA_DAYS


def test_partial_table_keeps_the_other_defaults():
    policy = parse_sla_days('{"critical": 3, "low": 365}')
    assert dict(policy.days) == {
        Severity.CRITICAL: 3,
        Severity.HIGH: 30,
        Severity.MEDIUM: 90,
        Severity.LOW: 365,
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{", "not JSON (Expecting property name enclosed in double quotes)"),
        ("[7]", 'must be a JSON object such as {"critical": 7, "high": 30}'),
        ('{"urgent": 1}', "urgent: unknown severity (use critical, high, medium, low)"),
        ('{"high": 0}', "high: must be a whole number of days from 1 to 3650"),
        ('{"high": 2.5}', "high: must be a whole number of days from 1 to 3650"),
        ('{"high": true}', "high: must be a whole number of days from 1 to 3650"),
        ('{"high": 3651}', "high: must be a whole number of days from 1 to 3650"),
        (
            '{"critical": 60}',
            "critical: 60 days is longer than high (30); a more severe finding must not get more time",
        ),
    ],
)
def test_invalid_tables_name_the_severity(value, message):
    with pytest.raises(SlaConfigError) as caught:
        parse_sla_days(value)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("first_seen", "severity", "days_open", "overdue"),
    [
        (date(2026, 11, 24), Severity.CRITICAL, 7, False),  # due today: not yet overdue
        (date(2026, 11, 23), Severity.CRITICAL, 8, True),
        (datetime(2026, 11, 1, 23, 59, tzinfo=UTC), Severity.HIGH, 30, False),
        (date(2026, 10, 31), Severity.HIGH, 31, True),
        (date(2026, 12, 1), Severity.LOW, 0, False),
        (date(2026, 12, 5), Severity.LOW, 0, False),  # a clock skew never gives negative days
    ],
)
def test_lifecycle(first_seen, severity, days_open, overdue):
    result = lifecycle(severity, first_seen, TODAY, SlaPolicy())
    assert (result.days_open, result.overdue) == (days_open, overdue)


def test_lifecycle_carries_the_due_date():
    assert lifecycle(Severity.MEDIUM, date(2026, 10, 1), TODAY, SlaPolicy()) == Lifecycle(
        first_seen=date(2026, 10, 1), days_open=61, sla_days=90, due_on=date(2026, 12, 30), overdue=False
    )
