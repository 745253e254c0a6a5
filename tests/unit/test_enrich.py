"""Enriched findings: privilege raises key findings, exceptions split them; owner, SLA, remediation added."""

from __future__ import annotations

from datetime import UTC, date, datetime

from iam_inventory.evaluate.exceptions import EXCEPTION_EXPIRED, ExceptionMatch, ExceptionSet, RiskException
from iam_inventory.evaluate.finding_enrichment import (
    ENRICHED_CSV_COLUMNS,
    EnrichmentConfig,
    EnrichmentContext,
    context_from_results,
    enrich_findings,
    enriched_entry,
    enriched_row,
    overdue_by_severity,
)
from iam_inventory.evaluate.owners import OwnerConfig, OwnerSource
from iam_inventory.evaluate.privilege import Privilege
from iam_inventory.models import Account, AccountResult, AccountStatus, Finding, Severity
from tests.builders import make_inventory, make_user
from tests.unit.test_exceptions import make_finding

TODAY = date(2026, 12, 1)
ADMIN = Privilege(True, "AdministratorAccess attached directly")


def tagged(finding: Finding, **tags: str) -> Finding:
    return Finding(**{**{name: getattr(finding, name) for name in Finding.__slots__}, "tags": tags})


NO_EXCEPTIONS = ExceptionSet("none")


def run(findings, exceptions=NO_EXCEPTIONS):
    context = EnrichmentContext(
        ou_paths={"111111111111": "Root/Workloads/Prod", "222222222222": "Root/Sandbox"},
        account_tags={"111111111111": {"owner": "team-prod"}},
        user_arns={("111111111111", "ci-deployer"): "arn:aws:iam::111111111111:user/build/ci-deployer"},
        privileges={("111111111111", "ci-deployer"): ADMIN},
        first_seen={findings[0].finding_id: datetime(2026, 11, 1, tzinfo=UTC)},
    )
    config = EnrichmentConfig(owners=OwnerConfig(("owner",), {"Root/Sandbox": "team-sandbox"}))
    return enrich_findings(findings, context, TODAY, config, exceptions)


def test_a_privileged_users_key_finding_is_raised_and_overdue():
    # Given a medium unused-key finding of an admin user, first seen 30 days ago
    finding = tagged(make_finding(), owner="alice")
    # When enriched
    (item,) = run([finding]).active
    # Then it is raised to high, owned by its user tag, 30 days open on a 30-day SLA (due today, not overdue)
    assert (item.finding.severity, item.base_severity) == (Severity.HIGH, Severity.MEDIUM)
    assert (item.privileged, item.privileged_reason) == (True, "AdministratorAccess attached directly")
    assert (item.owner, item.owner_source) == ("alice", OwnerSource.USER_TAG)
    assert (item.lifecycle.days_open, item.lifecycle.sla_days, item.lifecycle.overdue) == (30, 30, False)
    assert item.finding.finding_id == finding.finding_id  # the raise keeps the identity
    assert item.remediation.commands[1].startswith("aws iam update-access-key --user-name ci-deployer")


def test_a_high_key_finding_of_a_privileged_user_becomes_critical_and_overdue():
    # Given a high key finding of an admin user, first seen 30 days ago, and another account's finding
    finding = make_finding(rule="access_key_too_old", severity=Severity.HIGH)
    other = make_finding(account="222222222222", user="bob")
    # When enriched
    raised, plain = run([finding, other]).active
    # Then the first is critical, past the 7-day SLA; the second keeps its severity and is owned by the OU map
    assert (raised.finding.severity, raised.lifecycle.sla_days, raised.lifecycle.overdue) == (
        Severity.CRITICAL,
        7,
        True,
    )
    assert (plain.finding.severity, plain.owner, plain.owner_source, plain.privileged) == (
        Severity.MEDIUM,
        "team-sandbox",
        OwnerSource.OU_MAP,
        False,
    )
    assert (plain.lifecycle.days_open, plain.lifecycle.overdue) == (0, False)  # first seen today


def test_exceptions_suppress_and_expire_with_the_note():
    # Given an active exception on the ARN pattern and an expired one on the other account
    unused = make_finding()
    sandbox = make_finding(account="222222222222", user="bob")
    exceptions = ExceptionSet(
        "f",
        exceptions=(
            RiskException(
                "build",
                ExceptionMatch(user="arn:aws:iam::*:user/build/*"),
                "t",
                "r",
                date(2027, 1, 1),
                "SEC-1",
            ),
            RiskException("sbx", ExceptionMatch(ou_path="Root/Sandbox"), "t", "r", date(2026, 11, 30)),
            RiskException("stale", ExceptionMatch(account_id="999999999999"), "t", "r", date(2027, 1, 1)),
        ),
    )
    # When enriched
    result = run([unused, sandbox], exceptions)
    # Then the first is suppressed (and still enriched), the second active with the note, one entry stale
    (suppressed,) = result.suppressed
    (active,) = result.active
    assert (suppressed.finding.finding_id, suppressed.suppressed_by, suppressed.owner) == (
        unused.finding_id,
        "build",
        "team-prod",
    )
    assert (active.finding.finding_id, active.suppressed_by, active.exception_note) == (
        sandbox.finding_id,
        None,
        EXCEPTION_EXPIRED,
    )
    assert [item.exception_id for item in result.stale_exceptions] == ["stale"]
    assert enriched_entry(active)["exception"] == {
        "id": "sbx",
        "owner": "t",
        "reason": "r",
        "ticket": None,
        "expires": "2026-11-30",
    }


def test_csv_row_has_exactly_the_enriched_columns():
    item = run([tagged(make_finding(), owner="alice")]).active[0]
    row = enriched_row(item)
    assert tuple(row) == ENRICHED_CSV_COLUMNS
    assert ENRICHED_CSV_COLUMNS[:7] == (
        "owner",
        "owner_source",
        "privileged",
        "days_open",
        "overdue",
        "suppressed_by",
        "remediation",
    )
    assert {key: value for key, value in row.items() if key != "remediation"} == {
        "owner": "alice",
        "owner_source": "user_tag",
        "privileged": True,
        "days_open": 30,
        "overdue": False,
        "suppressed_by": "",
        "exception_note": "",
    }
    assert row["remediation"].splitlines() == [item.remediation.text, *item.remediation.commands]


def test_report_entry_of_an_enriched_finding():
    item = run(
        [make_finding(rule="root_access_key_present", user=None, key=None, severity=Severity.CRITICAL)]
    ).active[0]
    entry = enriched_entry(item)
    assert {
        key: entry[key] for key in ("severity", "base_severity", "owner", "owner_source", "privileged")
    } == {
        "severity": "critical",
        "base_severity": "critical",
        "owner": "team-prod",
        "owner_source": "account_tag",
        "privileged": False,
    }
    assert (entry["days_open"], entry["sla_days"], entry["due_on"], entry["overdue"]) == (
        30,
        7,
        "2026-11-08",
        True,
    )
    assert entry["remediation"]["console_only"] is True


def test_overdue_counts_by_severity():
    # Given a critical finding overdue (30 days on a 7-day SLA) and a medium one first seen today
    items = run(
        [
            make_finding(rule="access_key_too_old", severity=Severity.HIGH),
            make_finding(account="222222222222"),
        ]
    )
    # When counted, then every severity is present and only the overdue one counts
    assert overdue_by_severity(items.active) == {"critical": 1, "high": 0, "medium": 0, "low": 0}


def test_context_from_results_reads_ou_paths_and_user_arns():
    results = [
        AccountResult(
            Account("111111111111", "prod", "Root/Workloads"),
            AccountStatus.SCANNED,
            make_inventory(make_user("ci")),
        ),
        AccountResult(Account("222222222222", "gone", "Root/Sandbox"), AccountStatus.FAILED),
    ]
    context = context_from_results(results, account_tags={"111111111111": {"owner": "x"}})
    assert context.ou_paths == {"111111111111": "Root/Workloads", "222222222222": "Root/Sandbox"}
    assert context.user_arns == {("111111111111", "ci"): "arn:aws:iam::111111111111:user/ci"}
    assert (context.account_tags, context.privileges, context.first_seen) == (
        {"111111111111": {"owner": "x"}},
        {},
        {},
    )
