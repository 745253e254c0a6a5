"""Per-owner notifications and overdue metrics (issue 12), without AWS."""

from __future__ import annotations

import json

from aws_lambda_powertools.metrics import Metrics

from iam_inventory.evaluate.changes import RunStatus
from iam_inventory.models import Severity
from iam_inventory.publish.channels.metrics import publish_run_metrics
from iam_inventory.publish.channels.sns import NewFindings, message_attributes, render_notification
from iam_inventory.publish.render.totals import RunTotals


def test_a_message_carries_owner_and_string_arrays_of_severities_and_accounts():
    # Given one owner's new findings in two accounts, at two severities
    new = NewFindings(
        "run-2",
        "run-1",
        (),
        total=3,
        owner="team-payments",
        severities=("high", "critical"),
        accounts=("222222222222", "111111111111"),
    )
    # When its message attributes are built
    attributes = message_attributes(new)
    # Then owner is a String and the others sorted String.Arrays (a filter matches any element)
    assert attributes == {
        "owner": {"DataType": "String", "StringValue": "team-payments"},
        "severity": {"DataType": "String.Array", "StringValue": '["critical", "high"]'},
        "account": {"DataType": "String.Array", "StringValue": '["111111111111", "222222222222"]'},
    }
    subject, _ = render_notification(new)
    assert subject == "iam-inventory: 3 new high/critical finding(s) of team-payments"


def test_overdue_findings_are_published_by_severity_and_critical_ones_for_the_alarm(capsys):
    # Given a run with two overdue critical findings and one overdue low one
    totals = RunTotals()
    totals.overdue.update({Severity.CRITICAL: 2, Severity.LOW: 1})
    metrics = Metrics(namespace="IAMInventory", service="iam-inventory")
    # When the run metrics are published
    publish_run_metrics(totals, RunStatus.COMPLETE, (0, 0), metrics)
    metrics.flush_metrics()
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    # Then the alarm's metric counts the critical ones, and one blob per severity has the rest
    run_blob = next(blob for blob in blobs if "OverdueCriticalFindings" in blob)
    assert run_blob["OverdueCriticalFindings"] in (2, 2.0, [2.0])
    overdue = {blob["Severity"]: blob["OverdueFindings"] for blob in blobs if "OverdueFindings" in blob}
    assert {key: (value[0] if isinstance(value, list) else value) for key, value in overdue.items()} == {
        "critical": 2,
        "high": 0,
        "medium": 0,
        "low": 1,
    }
