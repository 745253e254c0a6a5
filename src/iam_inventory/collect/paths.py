"""Which collection path reads an account: the credential report when allowed and permitted, else the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from botocore.client import BaseClient

from iam_inventory.collect.api import collect_account
from iam_inventory.collect.credential_report import (
    ReportUnavailable,
    collect_account_from_report,
    fetch_credential_report,
)
from iam_inventory.core.budget import Deadline
from iam_inventory.core.retry import call_patiently
from iam_inventory.models import AccountInventory, CollectionPath


@dataclass(frozen=True, slots=True)
class Collected:
    """An account's inventory and how it was read."""

    inventory: AccountInventory
    path: CollectionPath
    report_generated_at: datetime | None = None
    fallback_reason: str | None = None


def collect_account_auto(
    iam: BaseClient,
    account_id: str,
    now: datetime,
    use_report: bool,
    concurrency: int,
    deadline: Deadline,
    report_wait_seconds: float = 60.0,
) -> Collected:
    """The fast path when allowed and permitted, else the per-user API path; says which one ran."""
    if use_report:
        try:
            report = fetch_credential_report(iam, deadline.sooner(report_wait_seconds))
        except ReportUnavailable as unavailable:
            inventory = call_patiently(lambda: collect_account(iam, account_id, now, concurrency), deadline)
            return Collected(inventory, CollectionPath.API, fallback_reason=unavailable.reason)
        inventory = collect_account_from_report(iam, account_id, now, report, concurrency, deadline)
        return Collected(inventory, CollectionPath.CREDENTIAL_REPORT, report.generated_at)
    inventory = call_patiently(lambda: collect_account(iam, account_id, now, concurrency), deadline)
    return Collected(inventory, CollectionPath.API)
