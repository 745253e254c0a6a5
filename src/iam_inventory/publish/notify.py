"""Optional SNS notification: a short text summary of the run's new high and critical findings.

Sent only by a run that becomes the baseline and could compare with the previous state: a run whose
state was unreadable has no idea what is new, and must not page anyone about "everything".
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.client import BaseClient

from iam_inventory.models import Finding, Severity

NOTIFY_SEVERITIES = frozenset({Severity.CRITICAL, Severity.HIGH})


@dataclass(frozen=True, slots=True)
class NewFindings:
    """What a notification says: the run, what it compared with, and its most urgent new findings."""

    run_id: str
    previous_run_id: str | None
    listed: tuple[Finding, ...]
    total: int
    report_location: str | None = None


def urgency(finding: Finding) -> tuple[bool, str, str]:
    """Sort key: critical first, then by account."""
    return (finding.severity != Severity.CRITICAL, finding.account_id, finding.finding_id)


def render_notification(new: NewFindings) -> tuple[str, str] | None:
    """(subject, message) for the new urgent findings, or None when there are none."""
    if not new.total:
        return None
    # SNS subjects: ASCII, no line breaks, at most 100 characters.
    subject = f"iam-inventory: {new.total} new high/critical finding(s)"[:100]
    baseline = (
        f"compared with run {new.previous_run_id}"
        if new.previous_run_id
        else "first run: nothing to compare with, so every finding is new"
    )
    lines = [f"Run {new.run_id} ({baseline}) found {new.total} new high or critical finding(s):", ""]
    for finding in new.listed:
        owner = ", ".join(f"{key}={value}" for key, value in finding.tags.items())
        label = finding.severity.value.upper()
        line = f"- [{label}] {finding.rule_id} in {finding.account_id}: {finding.message}"
        lines.append(line + (f" ({owner})" if owner else ""))
    if new.total > len(new.listed):
        lines.append(f"... and {new.total - len(new.listed)} more.")
    if new.report_location:
        lines += ["", f"Report: {new.report_location}"]
    return subject, "\n".join(lines) + "\n"


def notify_new_findings(sns: BaseClient, topic_arn: str, new: NewFindings) -> str | None:
    """Publish the summary to the topic when there is something new and urgent; the message id, or None."""
    rendered = render_notification(new)
    if rendered is None:
        return None
    subject, message = rendered
    message_id: str = sns.publish(TopicArn=topic_arn, Subject=subject, Message=message)["MessageId"]
    return message_id
