"""Optional SNS notifications: per owner, a short text summary of the run's new high and critical findings.

Sent only by a run that becomes the baseline and could compare with the previous state: a run whose
state was unreadable has no idea what is new, and must not page anyone about "everything".
One message per owner carries the message attributes `owner` (String), `severity` and `account`
(String.Array: a filter policy value matches when any element does), so each team subscribes with a
filter policy to its own findings: https://docs.aws.amazon.com/sns/latest/dg/example-filter-policies.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient

from iam_inventory.models import Finding, Severity
from iam_inventory.publish.render.items import AccountItem, FindingItem
from iam_inventory.publish.render.topn import TopN

NOTIFY_SEVERITIES = frozenset({Severity.CRITICAL, Severity.HIGH})
# A notification lists this many new urgent findings, and counts the rest.
NOTIFY_LISTED = 20


@dataclass(frozen=True, slots=True)
class NewFindings:
    """What a notification says: the run, what it compared with, and its most urgent new findings."""

    run_id: str
    previous_run_id: str | None
    listed: tuple[Finding, ...]
    total: int
    report_location: str | None = None
    owner: str | None = None
    severities: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()


@dataclass(slots=True)
class OwnerNews:
    """One owner's new urgent findings while the run is written: the most urgent few, and what they span."""

    owner: str
    top: TopN[Finding]
    severities: set[str] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)

    def add(self, finding: Finding) -> None:
        """Count one new urgent finding of this owner."""
        self.top.add(urgency(finding), finding)
        self.severities.add(finding.severity.value)
        self.accounts.add(finding.account_id)


class UrgentNews:
    """New high and critical findings per owner, gathered as the run is written: one notification each."""

    def __init__(self) -> None:
        self.owners: dict[str, OwnerNews] = {}

    def add_account(self, account: AccountItem) -> None:
        """News is per finding."""

    def add_finding(self, item: FindingItem) -> None:
        """Count a new urgent finding for its owner."""
        if item.is_new and item.enriched is not None and item.finding.severity in NOTIFY_SEVERITIES:
            owner = item.enriched.owner
            news = self.owners.setdefault(owner, OwnerNews(owner, TopN(NOTIFY_LISTED)))
            news.add(item.finding)

    def by_owner(self) -> list[OwnerNews]:
        """Each owner's news, owners in name order."""
        return [self.owners[owner] for owner in sorted(self.owners)]

    @property
    def total(self) -> int:
        """New urgent findings, listed or not."""
        return sum(news.top.seen for news in self.owners.values())


def urgency(finding: Finding) -> tuple[bool, str, str]:
    """Sort key: critical first, then by account."""
    return (finding.severity != Severity.CRITICAL, finding.account_id, finding.finding_id)


def render_notification(new: NewFindings) -> tuple[str, str] | None:
    """(subject, message) for the new urgent findings, or None when there are none."""
    if not new.total:
        return None
    # SNS subjects: ASCII, no line breaks, at most 100 characters.
    baseline = (
        f"compared with run {new.previous_run_id}"
        if new.previous_run_id
        else "first run: nothing to compare with, so every finding is new"
    )
    whose = f" of {new.owner}" if new.owner else ""
    subject = f"iam-inventory: {new.total} new high/critical finding(s){whose}"[:100]
    lines = [f"Run {new.run_id} ({baseline}) found {new.total} new high or critical finding(s){whose}:", ""]
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


def message_attributes(new: NewFindings) -> dict[str, dict[str, Any]]:
    """SNS MessageAttributes for per-owner filter policies: owner, and the severities and accounts listed."""
    attributes: dict[str, dict[str, Any]] = {}
    if new.owner is not None:
        attributes["owner"] = {"DataType": "String", "StringValue": new.owner}
    for name, values in (("severity", new.severities), ("account", new.accounts)):
        if values:
            attributes[name] = {"DataType": "String.Array", "StringValue": json.dumps(sorted(values))}
    return attributes


def notify_new_findings(sns: BaseClient, topic_arn: str, new: NewFindings) -> str | None:
    """Publish one summary to the topic when there is something new and urgent; the message id, or None."""
    rendered = render_notification(new)
    if rendered is None:
        return None
    subject, message = rendered
    response = sns.publish(
        TopicArn=topic_arn, Subject=subject, Message=message, MessageAttributes=message_attributes(new)
    )
    return str(response["MessageId"])
