"""Findings in the AWS Security Finding Format (ASFF), one affected account at a time.

Ids are `iam-inventory/<finding_id>`, so a rerun updates the same Security Hub finding instead of adding
a copy. AwsAccountId is the affected account and ProductArn that account's default product, because
Security Hub accepts a finding with the default product ARN only from the account it names
(https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html). Resolved
findings carry RecordState ARCHIVED and Compliance PASSED; the Workflow of a new finding is NEW, or
SUPPRESSED when an exception suppresses it. publish/channels/securityhub_export.py sends them.

A finding about a service-specific credential, an SSH public key or a signing certificate names it in
ProductFields (CredentialType, CredentialId) and as a second resource of Type `Other`, since ASFF has no
resource type for them; its Details.Other holds at most 50 pairs, keys under 128 characters and values
under 1,024 (https://docs.aws.amazon.com/securityhub/latest/userguide/asff-resourcedetails-other.html).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from iam_inventory.compare.comparison import Comparison
from iam_inventory.evaluate.changes import first_seen as first_seen_at
from iam_inventory.evaluate.exceptions import EXCEPTION_EXPIRED
from iam_inventory.evaluate.finding_enrichment import EnrichmentResult, enriched_entry
from iam_inventory.evaluate.rules import credential_type, rule_title
from iam_inventory.models import Finding
from iam_inventory.models.scan import AccountScan
from iam_inventory.publish.render.report import iso

ASFF_SCHEMA_VERSION = "2018-10-08"
ASFF_TYPE = (
    "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"
)
# A rule with no CIS control is not a CIS check; ASFF's own category for the others.
# https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-type-taxonomy.html
ASFF_BEST_PRACTICE_TYPE = "Software and Configuration Checks/AWS Security Best Practices"
CIS_STANDARD = "CIS AWS Foundations Benchmark v3.0.0"


@dataclass(frozen=True, slots=True)
class ImportTarget:
    """Where an account's findings are imported: that account's own Security Hub, region and partition."""

    account_id: str
    region: str
    partition: str

    @property
    def product_arn(self) -> str:
        """The account's default product ARN, which accepts findings from the account itself."""
        account = self.account_id
        return f"arn:{self.partition}:securityhub:{self.region}:{account}:product/{account}/default"


def asff_id(finding_id: str) -> str:
    """The stable Security Hub id of a finding."""
    return f"iam-inventory/{finding_id}"


def asff_finding(
    finding: Finding,
    target: ImportTarget,
    user_arns: dict[tuple[str, str], str],
    first_seen: datetime,
    now: datetime,
    resolved: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One finding in the AWS Security Finding Format; `extra` is its report entry's enrichment, if any."""
    extra = extra or {}
    if finding.user_name:
        arn = user_arns.get(
            (finding.account_id, finding.user_name),
            f"arn:{target.partition}:iam::{finding.account_id}:user/{finding.user_name}",
        )
        resource: dict[str, Any] = {
            "Type": "AwsIamUser",
            "Id": arn,
            "Partition": target.partition,
            "Region": target.region,
            "Details": {"AwsIamUser": {"UserName": finding.user_name}},
        }
    else:
        resource = {
            "Type": "AwsAccount",
            "Id": f"AWS::::Account:{finding.account_id}",
            "Partition": target.partition,
            "Region": target.region,
        }
    product_fields = {
        "iam-inventory/RuleId": finding.rule_id,
        "iam-inventory/AccountId": finding.account_id,
        "iam-inventory/MeasuredValue": f"{finding.measured_value} {finding.unit}",
        "iam-inventory/Threshold": f"{finding.threshold} {finding.unit}",
    }
    if finding.access_key_id:
        product_fields["iam-inventory/AccessKeyId"] = finding.access_key_id
    kind = credential_type(finding.rule_id)
    credential_id = finding.credential_id or finding.access_key_id
    resources = [resource]
    if kind and credential_id:
        product_fields["iam-inventory/CredentialType"] = kind
        product_fields["iam-inventory/CredentialId"] = credential_id
        if finding.credential_id and finding.user_name:
            resources.append(_credential_resource(resource, kind, finding.credential_id, finding.user_name))
    document: dict[str, Any] = {
        "SchemaVersion": ASFF_SCHEMA_VERSION,
        "Id": asff_id(finding.finding_id),
        "ProductArn": target.product_arn,
        "GeneratorId": f"iam-inventory/{finding.rule_id}",
        "AwsAccountId": finding.account_id,
        "Types": [ASFF_TYPE if finding.cis_control else ASFF_BEST_PRACTICE_TYPE],
        "FirstObservedAt": iso(first_seen),
        "LastObservedAt": iso(now),
        "CreatedAt": iso(first_seen),
        "UpdatedAt": iso(now),
        "Severity": {"Label": finding.severity.value.upper()},
        "Title": f"{rule_title(finding.rule_id) or finding.rule_id} (account {finding.account_id})"[:256],
        "Description": finding.message[:1024],
        "ProductFields": product_fields,
        "Resources": resources,
        "Compliance": {
            "Status": "PASSED" if resolved else "FAILED",
            "RelatedRequirements": [f"{CIS_STANDARD}/{finding.cis_control}"] if finding.cis_control else [],
        },
        "RecordState": "ARCHIVED" if resolved else "ACTIVE",
        "Workflow": {"Status": _workflow(resolved, extra)},
        "Remediation": {"Recommendation": {"Text": _remediation_text(finding, extra)[:512]}},
    }
    if extra.get("owner"):
        product_fields["iam-inventory/Owner"] = extra["owner"]
    if extra.get("suppressed_by"):
        product_fields["iam-inventory/SuppressedBy"] = extra["suppressed_by"]
    if extra.get("exception_note"):
        product_fields["iam-inventory/ExceptionNote"] = extra["exception_note"]
    if finding.tags:
        # UserDefinedFields: at most 50 pairs; routing tags are a handful.
        document["UserDefinedFields"] = {key[:128]: value[:1024] for key, value in finding.tags.items()}
    return document


def _credential_resource(
    user: dict[str, Any], kind: str, credential_id: str, user_name: str
) -> dict[str, Any]:
    """The credential as an ASFF resource of Type Other, its id under its user's ARN."""
    return {
        "Type": "Other",
        "Id": f"{user['Id']}/{kind}/{credential_id}",
        "Partition": user["Partition"],
        "Region": user["Region"],
        "Details": {
            "Other": {"CredentialType": kind, "CredentialId": credential_id[:1023], "UserName": user_name}
        },
    }


def _workflow(resolved: bool, extra: dict[str, Any]) -> str:
    if resolved:
        return "RESOLVED"
    return "SUPPRESSED" if extra.get("suppressed_by") else "NEW"


def _remediation_text(finding: Finding, extra: dict[str, Any]) -> str:
    remediation = extra.get("remediation") or {}
    # ASFF Remediation.Recommendation.Text is at most 512 characters: the text, then the first command.
    commands = remediation.get("commands") or []
    text = remediation.get("text") or f"See the rule {finding.rule_id} in docs/remediation.md."
    return f"{text} First step: {commands[0]}" if commands else text


def account_documents(
    scan: AccountScan,
    comparison: Comparison,
    target: ImportTarget,
    now: datetime,
    enrich: Callable[[AccountScan], EnrichmentResult] | None = None,
) -> Iterator[tuple[dict[str, Any], bool]]:
    """One account's documents, each with whether an earlier run saw it: current ones, then resolved ones."""
    users = scan.result.inventory.users if scan.result.inventory is not None else ()
    user_arns = {(target.account_id, user.user_name): user.arn for user in users}
    items: Iterable[tuple[Finding, dict[str, Any]]]
    if enrich is None:
        items = ((finding, {}) for finding in scan.findings)
    else:
        result = enrich(scan)
        items = ((item.finding, enriched_entry(item)) for item in (*result.active, *result.suppressed))
    for finding, extra in items:
        known = comparison.known(finding.finding_id)
        first_seen = first_seen_at(known, now)
        yield asff_finding(finding, target, user_arns, first_seen, now, extra=extra), known is not None
    if scan.result.inventory is None:
        return  # an account this run did not scan resolves nothing
    for entry in comparison.resolved_in(target.account_id):
        yield asff_finding(entry.finding, target, {}, entry.first_seen_at, now, resolved=True), True


def workflow_change(document: dict[str, Any]) -> str | None:
    """The workflow an existing finding must move to (BatchUpdateFindings), or None to leave it as is.

    Resolved and suppressed findings leave NEW; a finding whose exception expired goes back to NEW from
    SUPPRESSED. Other workflow changes are the analysts' (NOTIFIED, say) and are left alone; Security Hub
    itself moves RESOLVED back to NEW when a resolved finding comes back ACTIVE and FAILED.
    """
    status = str(document["Workflow"]["Status"])
    if status != "NEW":
        return status
    expired = document["ProductFields"].get("iam-inventory/ExceptionNote") == EXCEPTION_EXPIRED
    return status if expired else None
