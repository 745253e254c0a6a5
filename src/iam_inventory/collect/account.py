"""Collect one account: the live user set, the credential report when allowed, verify-before-flag.

Calls per account with tags on, when this run generated the report: AssumeRole (made by the caller),
GenerateCredentialReport, GetCredentialReport, one GetAccountAuthorizationDetails per 1,000 users, and
one ListAccessKeys per user with keys whose keys the previous run's scan does not already name (a
steady-state run lists only the users whose keys changed), one ListServiceSpecificCredentials per 1,000
credentials, one ListSSHPublicKeys per user who may use CodeCommit and one ListSigningCertificates per
user whose row shows a certificate (collect/credentials.py); report polling and ambiguous key matches
add calls. When the report predates the run, every user's keys are listed and each candidate finding
is verified live.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from botocore.client import BaseClient

from iam_inventory.collect.api import collect_account_api
from iam_inventory.collect.credential_report import (
    ReportUnavailable,
    ReportUnparseable,
    fetch_credential_report,
)
from iam_inventory.collect.credentials import collect_other_credentials
from iam_inventory.collect.keys import PreviousUsers
from iam_inventory.collect.report_path import collect_account_from_report
from iam_inventory.collect.users import list_live_users
from iam_inventory.collect.verify import verify_candidates
from iam_inventory.core.budget import Deadline
from iam_inventory.models import AccountInventory, CollectionPath, Finding

__all__ = ["CandidateFinder", "Collected", "collect_account_auto"]

# The findings an inventory would produce (evaluate with the run's thresholds): the candidates to verify.
CandidateFinder = Callable[[AccountInventory], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Collected:
    """An account's inventory and how it was read."""

    inventory: AccountInventory
    path: CollectionPath
    report_generated_at: datetime | None = None
    fallback_reason: str | None = None
    verification_calls: int = 0
    warnings: tuple[str, ...] = ()


def collect_account_auto(
    iam: BaseClient,
    account_id: str,
    now: datetime,
    use_report: bool,
    concurrency: int,
    deadline: Deadline,
    report_wait_seconds: float = 60.0,
    tag_keys: Sequence[str] = (),
    candidates: CandidateFinder | None = None,
    previous: Callable[[], PreviousUsers | None] | None = None,
) -> Collected:
    """The report path when allowed and permitted, else the per-user API path; says which one ran."""
    live = list_live_users(iam, tag_keys, concurrency, deadline)
    users = list(live.users)
    fallback_reason = None
    warnings = live.warnings
    if use_report:
        try:
            # `now` is the run's start: only a report generated since then counts as this run's.
            report = fetch_credential_report(iam, deadline.sooner(report_wait_seconds), run_started_at=now)
        except ReportUnavailable as unavailable:
            fallback_reason = unavailable.reason
            if isinstance(unavailable, ReportUnparseable):
                # Not a permission or timing matter: the data IAM served is off, and the team should know.
                warnings = (*warnings, f"{unavailable.reason}: the account was read through the API path")
        else:
            # The previous scan is read only when this run generated the report (else it cannot be used).
            known = previous() if previous is not None and report.generated_by_run else None
            inventory = collect_account_from_report(
                iam, account_id, now, report, users, concurrency, deadline, known
            )
            other = collect_other_credentials(iam, inventory, users, report, concurrency, deadline)
            inventory, verified = other.inventory, 0
            # A report this run generated reflects IAM as of the run: nothing that matters can have changed.
            if not report.generated_by_run and candidates is not None:
                inventory, verified = verify_candidates(
                    iam, inventory, candidates(inventory), concurrency, deadline
                )
            path = (
                CollectionPath.CREDENTIAL_REPORT
                if live.authorization_details
                else CollectionPath.CREDENTIAL_REPORT_LIST_USERS
            )
            warnings = (*warnings, *other.warnings)
            return Collected(inventory, path, report.generated_at, None, verified, warnings)
    inventory = collect_account_api(iam, account_id, now, users, concurrency, deadline)
    other = collect_other_credentials(iam, inventory, users, None, concurrency, deadline)
    path = CollectionPath.API if live.authorization_details else CollectionPath.API_LIST_USERS
    return Collected(
        other.inventory, path, fallback_reason=fallback_reason, warnings=(*warnings, *other.warnings)
    )
