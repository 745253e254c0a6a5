"""Optional export to the hub account's Security Hub in ASFF, with BatchImportFindings.

Ids are `iam-inventory/<finding_id>`, so a rerun updates the same Security Hub finding instead of adding
a copy. AwsAccountId is the affected (spoke) account, each finding carries its Remediation text, resolved
findings are re-sent with Workflow RESOLVED, RecordState ARCHIVED and Compliance PASSED, and findings an
exception suppresses with Workflow SUPPRESSED.

Caveat (real Security Hub, not the simulator): with the default product ARN, BatchImportFindings accepts
only findings whose AwsAccountId is the caller's account, and it does not update Workflow once a finding
exists (https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html). See
docs/remediation.md for what that means for a hub importing spoke findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.client import BaseClient

from iam_inventory.evaluate.enrich import EnrichmentResult, enriched_entry
from iam_inventory.evaluate.rules import RULES
from iam_inventory.models import Finding
from iam_inventory.models.scan import AccountScan
from iam_inventory.publish.comparison import Comparison
from iam_inventory.publish.report import iso

ASFF_SCHEMA_VERSION = "2018-10-08"
ASFF_TYPE = (
    "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"
)
CIS_STANDARD = "CIS AWS Foundations Benchmark v3.0.0"
BATCH_SIZE = 100  # BatchImportFindings' limit per call
_TITLES = {rule.rule_id: rule.title for rule in RULES}


@dataclass(frozen=True, slots=True)
class HubIdentity:
    """Where findings are imported: the hub's account, region and partition."""

    account_id: str
    region: str
    partition: str

    @property
    def product_arn(self) -> str:
        """The account's default product ARN, which accepts findings from the account itself."""
        account = self.account_id
        return f"arn:{self.partition}:securityhub:{self.region}:{account}:product/{account}/default"


@dataclass(frozen=True, slots=True)
class ExportResult:
    """How many findings Security Hub accepted and refused."""

    imported: int
    failed: int


def asff_id(finding_id: str) -> str:
    """The stable Security Hub id of a finding."""
    return f"iam-inventory/{finding_id}"


def asff_finding(
    finding: Finding,
    hub: HubIdentity,
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
            f"arn:{hub.partition}:iam::{finding.account_id}:user/{finding.user_name}",
        )
        resource: dict[str, Any] = {
            "Type": "AwsIamUser",
            "Id": arn,
            "Partition": hub.partition,
            "Region": hub.region,
            "Details": {"AwsIamUser": {"UserName": finding.user_name}},
        }
    else:
        resource = {
            "Type": "AwsAccount",
            "Id": f"AWS::::Account:{finding.account_id}",
            "Partition": hub.partition,
            "Region": hub.region,
        }
    product_fields = {
        "iam-inventory/RuleId": finding.rule_id,
        "iam-inventory/AccountId": finding.account_id,
        "iam-inventory/MeasuredValue": f"{finding.measured_value} {finding.unit}",
        "iam-inventory/Threshold": f"{finding.threshold} {finding.unit}",
    }
    if finding.access_key_id:
        product_fields["iam-inventory/AccessKeyId"] = finding.access_key_id
    document: dict[str, Any] = {
        "SchemaVersion": ASFF_SCHEMA_VERSION,
        "Id": asff_id(finding.finding_id),
        "ProductArn": hub.product_arn,
        "GeneratorId": f"iam-inventory/{finding.rule_id}",
        "AwsAccountId": finding.account_id,
        "Types": [ASFF_TYPE],
        "FirstObservedAt": iso(first_seen),
        "LastObservedAt": iso(now),
        "CreatedAt": iso(first_seen),
        "UpdatedAt": iso(now),
        "Severity": {"Label": finding.severity.value.upper()},
        "Title": f"{_TITLES.get(finding.rule_id, finding.rule_id)} (account {finding.account_id})"[:256],
        "Description": finding.message[:1024],
        "ProductFields": product_fields,
        "Resources": [resource],
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
    if finding.tags:
        # UserDefinedFields: at most 50 pairs; routing tags are a handful.
        document["UserDefinedFields"] = {key[:128]: value[:1024] for key, value in finding.tags.items()}
    return document


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


def asff_documents(
    scans: Iterable[AccountScan],
    comparison: Comparison,
    hub: HubIdentity,
    now: datetime,
    enrich: Callable[[AccountScan], EnrichmentResult] | None = None,
) -> Iterator[dict[str, Any]]:
    """Current findings (ACTIVE: NEW or SUPPRESSED) account by account, then resolved ones (ARCHIVED)."""
    for scan in scans:
        users = scan.result.inventory.users if scan.result.inventory is not None else ()
        user_arns = {(scan.result.account.account_id, user.user_name): user.arn for user in users}
        items: list[tuple[Finding, dict[str, Any]]]
        if enrich is None:
            items = [(finding, {}) for finding in scan.findings]
        else:
            result = enrich(scan)
            items = [(item.finding, enriched_entry(item)) for item in (*result.active, *result.suppressed)]
        for finding, extra in items:
            known = comparison.known(finding.finding_id)
            first_seen = known.first_seen_at if known is not None else now
            yield asff_finding(finding, hub, user_arns, first_seen, now, extra=extra)
    for entry in comparison.resolved():
        yield asff_finding(entry.finding, hub, {}, entry.first_seen_at, now, resolved=True)


def import_findings(securityhub: BaseClient, documents: Iterable[dict[str, Any]]) -> ExportResult:
    """BatchImportFindings in batches of 100, as the documents stream by; refusals are counted, not raised."""
    imported = failed = 0
    batch: list[dict[str, Any]] = []
    for document in documents:
        batch.append(document)
        if len(batch) == BATCH_SIZE:
            imported, failed = _send(securityhub, batch, imported, failed)
    if batch:
        imported, failed = _send(securityhub, batch, imported, failed)
    return ExportResult(imported=imported, failed=failed)


def _send(
    securityhub: BaseClient, batch: list[dict[str, Any]], imported: int, failed: int
) -> tuple[int, int]:
    response = securityhub.batch_import_findings(Findings=batch)
    batch.clear()
    return imported + response.get("SuccessCount", 0), failed + response.get("FailedCount", 0)


def export_run(
    securityhub: BaseClient,
    sts: BaseClient,
    scans: Iterable[AccountScan],
    comparison: Comparison,
    now: datetime,
    location: tuple[str, str],
    enrich: Callable[[AccountScan], EnrichmentResult] | None = None,
) -> ExportResult:
    """Export a run's findings (and the ones it resolved) to the caller account's Security Hub."""
    region, partition = location
    hub = HubIdentity(account_id=sts.get_caller_identity()["Account"], region=region, partition=partition)
    return import_findings(securityhub, asff_documents(scans, comparison, hub, now, enrich))
