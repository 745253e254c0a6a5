"""Security Hub export from finalize: each account's findings go in through that account's import role."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from botocore.client import BaseClient

from iam_inventory.assume.clients import ClientFactory, assume_spoke_role, role_arn
from iam_inventory.compare.comparison import Comparison
from iam_inventory.config.settings import Settings
from iam_inventory.core.observability import logger
from iam_inventory.core.redact import Redactor
from iam_inventory.models.scan import AccountScan
from iam_inventory.publish.channels.securityhub_export import AccountOpener, export_run
from iam_inventory.publish.run_enrichment import RunEnrichment
from iam_inventory.publish.written import WriterOptions


def import_role_opener(
    factory: ClientFactory, settings: Settings, run_id: str, external_id: str | None, redact: Redactor
) -> AccountOpener:
    """Assume an account's import role (the read role's trust and ExternalId) and open its Security Hub."""
    sts = factory.hub_client("sts")

    def open_account(account_id: str) -> BaseClient:
        arn = role_arn(factory.partition, account_id, settings.role_path, settings.import_role_name)
        credentials = assume_spoke_role(sts, arn, run_id, external_id)
        redact.add(credentials.secret_access_key, credentials.session_token)
        return factory.spoke_client("securityhub", credentials)

    return open_account


def export_to_security_hub(
    open_account: AccountOpener,
    scans: Iterable[AccountScan],
    comparison: Comparison,
    now: datetime,
    options: WriterOptions,
    location: tuple[str, str],
) -> str:
    """Export to Security Hub (`location`: region, partition); returns the summary's `securityhub` line."""
    # The same enrichment as the files: suppressed findings go to Security Hub as SUPPRESSED.
    enrich = RunEnrichment(
        options.enrichment, options.exceptions, now.date(), comparison.first_seen_of, 0
    ).account
    result = export_run(open_account, scans, comparison, now, location, enrich)
    level = logger.warning if result.failed or result.refused_accounts else logger.info
    level(
        "security hub export",
        extra={
            "accounts": result.accounts,
            "imported": result.imported,
            "failed": result.failed,
            "refused_accounts": result.refused_accounts,
            "refused_findings": result.refused_findings,
            "workflow_updates": result.workflow_updates,
        },
    )
    return result.summary()
