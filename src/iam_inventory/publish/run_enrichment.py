"""The run's enrichment, one account at a time: privilege, exceptions, owner, SLA and remediation per finding.

Per-finding data streams through; what stays is per exception (which matched, which expired) and,
in the owners' writer (render/owners.py), per owner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from iam_inventory.evaluate.exceptions import NO_EXCEPTIONS, ExceptionSet, RiskException
from iam_inventory.evaluate.finding_enrichment import (
    EnrichmentConfig,
    EnrichmentResult,
    context_from_results,
    enrich_findings,
)
from iam_inventory.evaluate.privilege import Privilege
from iam_inventory.models.scan import AccountScan
from iam_inventory.publish.render.owners import OwnersCsv


class RunEnrichment:
    """Enrich each account's findings; keep which exceptions matched, and the owners' writer."""

    def __init__(
        self,
        config: EnrichmentConfig,
        exceptions: ExceptionSet,
        today: date,
        first_seen: Callable[[Sequence[str]], Mapping[str, datetime]],
        spool_bytes: int,
    ) -> None:
        self.config, self.exceptions, self.today = config, exceptions or NO_EXCEPTIONS, today
        self.first_seen = first_seen
        self.unmatched = {item.exception_id for item in self.exceptions.exceptions}
        self.scanned: set[str] = set()
        self.expired_matches = 0
        # Who owns what the run found: report.json's owners and owners/<owner>.csv, fed like every file.
        self.owners = OwnersCsv(spool_bytes)

    def account(self, scan: AccountScan) -> EnrichmentResult:
        """The account's findings enriched: active (expired exceptions noted) and suppressed."""
        item = scan.result
        account_id = item.account.account_id
        users = item.inventory.users if item.inventory is not None else ()
        # One lookup for the account's findings: a new finding is not in the answer.
        seen = self.first_seen([finding.finding_id for finding in scan.findings])
        context = context_from_results(
            [item],
            account_tags={account_id: item.account.tags},
            privileges={
                (account_id, user.user_name): Privilege(True, user.privileged_reason)
                for user in users
                if user.privileged
            },
            first_seen=seen,
        )
        if item.inventory is not None:
            self.scanned.add(account_id)
        result = enrich_findings(scan.findings, context, self.today, self.config, self.exceptions)
        # An entry is stale when no account's findings matched it: stale here and everywhere before.
        self.unmatched &= {exception.exception_id for exception in result.stale_exceptions}
        self.expired_matches += sum(1 for enriched in result.active if enriched.exception_note)
        return result

    def stale(self) -> list[RiskException]:
        """Exceptions that matched no finding of the run, in file order.

        An exception for one account the run could not scan is not stale: its findings are unknown.
        """
        return [
            item
            for item in self.exceptions.exceptions
            if item.exception_id in self.unmatched
            and (item.match.account_id is None or item.match.account_id in self.scanned)
        ]

    def section(self) -> dict[str, Any]:
        """report.json's `exceptions` object: the file, the stale entries and the expired matches."""
        return {
            "source": self.exceptions.source,
            "version": self.exceptions.version,
            "entries": len(self.exceptions.exceptions),
            "expired_matches": self.expired_matches,
            "stale": [exception_entry(item) for item in self.stale()],
        }


def exception_entry(item: RiskException) -> dict[str, Any]:
    """An exception as report.json shows it."""
    return {
        "id": item.exception_id,
        "owner": item.owner,
        "reason": item.reason,
        "ticket": item.ticket,
        "expires": item.expires.isoformat(),
    }
