"""A finding as a JSON object: the same in report.json and in the comparison state, read back for both."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from iam_inventory.core.clock import iso
from iam_inventory.evaluate.rules import credential_type
from iam_inventory.models import Finding, Severity


def finding_entry(finding: Finding, first_seen_at: datetime | None, is_new: bool) -> dict[str, Any]:
    """One finding as a JSON object."""
    return {
        "finding_id": finding.finding_id,
        "rule_id": finding.rule_id,
        "severity": finding.severity.value,
        "cis_control": finding.cis_control,
        "account_id": finding.account_id,
        "user_name": finding.user_name,
        "access_key_id": finding.access_key_id,
        # 1.6: the kind of credential (from the rule) and its id, an access key's included
        "credential_type": credential_type(finding.rule_id),
        "credential_id": finding.access_key_id or finding.credential_id,
        "measured_value": finding.measured_value,
        "threshold": finding.threshold,
        "unit": finding.unit,
        "message": finding.message,
        "tags": dict(finding.tags),
        "first_seen_at": iso(first_seen_at),
        "is_new": is_new,
        "verified_live": finding.verified_live,
    }


def finding_from_entry(entry: dict[str, Any]) -> Finding:
    """A finding read back from its JSON object (the comparison state keeps findings this way)."""
    return Finding(
        finding_id=entry["finding_id"],
        rule_id=entry["rule_id"],
        severity=Severity(entry["severity"]),
        cis_control=entry["cis_control"],
        account_id=entry["account_id"],
        user_name=entry["user_name"],
        access_key_id=entry["access_key_id"],
        measured_value=entry["measured_value"],
        threshold=entry["threshold"],
        unit=entry["unit"],
        message=entry["message"],
        tags=dict(entry.get("tags") or {}),
        verified_live=entry.get("verified_live", True),
        # An access key's id is kept once, in access_key_id (reports before 1.6 have no credential_id).
        credential_id=None if entry["access_key_id"] else entry.get("credential_id"),
    )
