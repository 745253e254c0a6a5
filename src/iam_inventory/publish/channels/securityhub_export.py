"""Export a run's findings into each affected account's own Security Hub, account by account.

Security Hub takes a finding with the default product ARN only from the account named in its
AwsAccountId, and BatchImportFindings never changes the Workflow of a finding that exists
(https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html). So each
account's findings are imported with that account's credentials (its optional import role), and the
workflow of findings an earlier run saw is set with BatchUpdateFindings, which the owning account may
call (https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchUpdateFindings.html).
One account is in memory at a time, 100 documents at most; an account that refuses is counted and
logged, never a failed run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from iam_inventory.compare.comparison import Comparison
from iam_inventory.core.observability import logger
from iam_inventory.core.retry import error_code
from iam_inventory.evaluate.finding_enrichment import EnrichmentResult
from iam_inventory.models.scan import AccountScan
from iam_inventory.publish.channels.securityhub import ImportTarget, account_documents, workflow_change

BATCH_SIZE = 100  # the most findings BatchImportFindings and BatchUpdateFindings take per call
# The account's Security Hub client, through its import role; raises ClientError when that is refused.
AccountOpener = Callable[[str], BaseClient]


@dataclass(slots=True)
class ExportResult:
    """What the export did: accounts and findings imported, refused by Security Hub, or never sent."""

    accounts: int = 0
    imported: int = 0
    failed: int = 0  # findings Security Hub refused (FailedFindings)
    refused_accounts: int = 0  # accounts whose import role is missing or refused
    refused_findings: int = 0  # their findings, never sent
    workflow_updates: int = 0

    def summary(self) -> str:
        """The run summary's `securityhub` line."""
        return (
            f"{self.imported} imported into {self.accounts} accounts, {self.failed} refused; "
            f"{self.refused_findings} not sent: {self.refused_accounts} accounts refused the import role"
        )


def export_run(
    open_account: AccountOpener,
    scans: Iterable[AccountScan],
    comparison: Comparison,
    now: datetime,
    location: tuple[str, str],
    enrich: Callable[[AccountScan], EnrichmentResult] | None = None,
) -> ExportResult:
    """Import every scanned account's findings (and the ones it resolved) into its own Security Hub."""
    region, partition = location
    result = ExportResult()
    for scan in scans:
        account_id = scan.result.account.account_id
        target = ImportTarget(account_id=account_id, region=region, partition=partition)
        documents = account_documents(scan, comparison, target, now, enrich)
        first = next(documents, None)
        if first is None:
            continue
        pending = chain([first], documents)
        try:
            imported = import_account(open_account(account_id), pending, result)
        except (ClientError, BotoCoreError) as error:
            result.refused_accounts += 1
            result.refused_findings += sum(1 for _ in pending)
            # Only the error code: a message may name the role, never a secret, but stays out anyway.
            logger.warning(
                "security hub import refused",
                extra={"account_id": account_id, "error_code": error_code(error)},
            )
            continue
        result.accounts += imported > 0
    return result


def import_account(
    securityhub: BaseClient, documents: Iterator[tuple[dict[str, Any], bool]], result: ExportResult
) -> int:
    """Import one account's documents in batches of 100, then set the workflow of the known ones."""
    imported = 0
    batch: list[tuple[dict[str, Any], bool]] = []
    for item in chain(documents, [None]):
        if item is not None:
            batch.append(item)
        if batch and (item is None or len(batch) == BATCH_SIZE):
            try:
                response = securityhub.batch_import_findings(Findings=[document for document, _ in batch])
            except (ClientError, BotoCoreError):
                result.refused_findings += len(batch)  # the caller counts the rest of the account's
                raise
            failed = {entry.get("Id") for entry in response.get("FailedFindings", [])}
            imported += response.get("SuccessCount", 0)
            result.imported += response.get("SuccessCount", 0)
            result.failed += response.get("FailedCount", 0)
            result.workflow_updates += update_workflows(
                securityhub, [(document, known) for document, known in batch if document["Id"] not in failed]
            )
            batch.clear()
    return imported


def update_workflows(securityhub: BaseClient, imported: list[tuple[dict[str, Any], bool]]) -> int:
    """BatchUpdateFindings for findings an earlier run saw whose workflow must change (workflow_change)."""
    by_status: dict[str, list[dict[str, str]]] = {}
    for document, known in imported:
        status = workflow_change(document)
        if known and status is not None:
            identifier = {"Id": document["Id"], "ProductArn": document["ProductArn"]}
            by_status.setdefault(status, []).append(identifier)
    updated = 0
    for status, identifiers in sorted(by_status.items()):
        response = securityhub.batch_update_findings(
            FindingIdentifiers=identifiers, Workflow={"Status": status}
        )
        updated += len(response.get("ProcessedFindings", []))
        for unprocessed in response.get("UnprocessedFindings", []):
            logger.warning(
                "security hub workflow not updated",
                extra={"id": unprocessed["FindingIdentifier"]["Id"], "error_code": unprocessed["ErrorCode"]},
            )
    return updated
