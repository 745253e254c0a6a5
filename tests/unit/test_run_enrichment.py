"""RunEnrichment across accounts: stale exceptions are judged on the whole run (issue 12)."""

from __future__ import annotations

from datetime import date

from iam_inventory.evaluate.exceptions import ExceptionMatch, ExceptionSet, RiskException
from iam_inventory.evaluate.finding_enrichment import EnrichmentConfig
from iam_inventory.evaluate.rules import evaluate
from iam_inventory.models import Account, AccountResult, AccountStatus, Thresholds
from iam_inventory.models.scan import AccountScan
from iam_inventory.publish.run_enrichment import RunEnrichment
from tests.builders import NOW, make_inventory, make_key, make_user

PROD, DEV, GONE = "111111111111", "222222222222", "444444444444"


def exception(exception_id: str, **match: str) -> RiskException:
    return RiskException(exception_id, ExceptionMatch(**match), "team", "why", date(2027, 1, 31))


def scanned(account_id: str, *users) -> AccountScan:
    inventory = make_inventory(*users, account_id=account_id)
    findings = tuple(evaluate(inventory, Thresholds(), NOW))
    return AccountScan("r", AccountResult(Account(account_id), AccountStatus.SCANNED, inventory), findings)


def test_an_exception_is_stale_only_when_no_account_of_the_run_matched_it():
    # Given exceptions for a user in prod, a user nowhere, and a user in an account that failed to scan
    exceptions = ExceptionSet(
        "test",
        exceptions=(
            exception("old-key", user="old"),
            exception("nobody", user="nobody"),
            exception("unknown", account_id=GONE, user="old"),
        ),
    )
    enrichment = RunEnrichment(EnrichmentConfig(), exceptions, NOW.date(), lambda _: {}, 1024)
    # When prod (where "old" has a 200-day key) is enriched after dev (which has no match)
    dev = enrichment.account(scanned(DEV, make_user("fresh", keys=(make_key(age=10),))))
    prod = enrichment.account(scanned(PROD, make_user("old", keys=(make_key(age=200),))))
    failed = AccountScan("r", AccountResult(Account(GONE), AccountStatus.FAILED, error_code="AccessDenied"))
    enrichment.account(failed)
    # Then "old-key" suppressed prod's finding, and only "nobody" is stale ("unknown" could not be judged)
    assert (dev.suppressed, [item.suppressed_by for item in prod.suppressed]) == ((), ["old-key"])
    assert [item.exception_id for item in enrichment.stale()] == ["nobody"]
    assert enrichment.section()["stale"][0]["id"] == "nobody"
