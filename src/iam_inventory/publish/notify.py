"""Optional SNS notification: a short text summary of the run's new high and critical findings."""

from __future__ import annotations

from botocore.client import BaseClient

from iam_inventory.models import Finding, RunResult, Severity

NOTIFY_SEVERITIES = frozenset({Severity.CRITICAL, Severity.HIGH})
_MAX_LISTED = 20


def new_urgent_findings(result: RunResult) -> list[Finding]:
    """This run's new critical and high findings, most severe first."""
    if result.changes is None:
        return []
    new = [
        finding
        for finding in result.findings
        if finding.finding_id in result.changes.new_ids and finding.severity in NOTIFY_SEVERITIES
    ]
    return sorted(new, key=lambda finding: (finding.severity != Severity.CRITICAL, finding.account_id))


def render_notification(result: RunResult, report_location: str | None) -> tuple[str, str] | None:
    """(subject, message) for the new urgent findings, or None when there are none."""
    urgent = new_urgent_findings(result)
    if not urgent:
        return None
    run_id = result.context.run_id
    # SNS subjects: ASCII, no line breaks, at most 100 characters.
    subject = f"iam-inventory: {len(urgent)} new high/critical finding(s)"[:100]
    changes = result.changes
    baseline = (
        f"compared with run {changes.previous_run_id}"
        if changes and changes.previous_run_id
        else "first run: nothing to compare with, so every finding is new"
    )
    lines = [f"Run {run_id} ({baseline}) found {len(urgent)} new high or critical finding(s):", ""]
    for finding in urgent[:_MAX_LISTED]:
        owner = ", ".join(f"{key}={value}" for key, value in finding.tags.items())
        label = finding.severity.value.upper()
        line = f"- [{label}] {finding.rule_id} in {finding.account_id}: {finding.message}"
        lines.append(line + (f" ({owner})" if owner else ""))
    if len(urgent) > _MAX_LISTED:
        lines.append(f"... and {len(urgent) - _MAX_LISTED} more.")
    if report_location:
        lines += ["", f"Report: {report_location}"]
    return subject, "\n".join(lines) + "\n"


def notify_new_findings(
    sns: BaseClient, topic_arn: str, result: RunResult, report_location: str | None
) -> str | None:
    """Publish the summary to the topic when there is something new and urgent; the message id, or None."""
    rendered = render_notification(result, report_location)
    if rendered is None:
        return None
    subject, message = rendered
    return sns.publish(TopicArn=topic_arn, Subject=subject, Message=message)["MessageId"]
