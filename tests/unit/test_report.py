"""Report rendering: CSV column order, formula-injection safety, summary counts; redaction of secrets."""

from __future__ import annotations

import csv
import io

import pytest

from iam_inventory.core.redact import Redactor
from iam_inventory.evaluate.rules import evaluate
from iam_inventory.models import (
    Account,
    AccountResult,
    AccountStatus,
    RunContext,
    RunResult,
    Thresholds,
)
from iam_inventory.publish.document import build_report, render_findings_csv
from iam_inventory.publish.render.rows import FINDINGS_CSV_COLUMNS, csv_safe
from tests.builders import NOW, make_inventory, make_key, make_user


def run_result(*results: AccountResult) -> RunResult:
    context = RunContext("run-1", NOW, False, Thresholds(), "IAMListRole", "/", "manual")
    findings = [f for r in results if r.inventory for f in evaluate(r.inventory, context.thresholds, NOW)]
    return RunResult(context=context, accounts=list(results), findings=findings, finished_at=NOW)


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x")', "+cmd", "-1+2", "@SUM(A1)", "\tx"])
def test_csv_cells_that_a_spreadsheet_would_evaluate_are_quoted(name):
    assert csv_safe(name) == "'" + name


def test_findings_csv_has_stable_columns_and_escapes_user_names():
    # Given a user whose (legal) name starts with '=' and has an old key
    inventory = make_inventory(make_user("=evil", keys=(make_key("AKIAEVIL", age=200, used=1),)))
    result = run_result(AccountResult(Account("111111111111", "prod"), AccountStatus.SCANNED, inventory))
    # When
    rows = list(csv.reader(io.StringIO(render_findings_csv(build_report(result)).decode())))
    # Then the header is the documented order and the name cannot run as a formula
    assert tuple(rows[0]) == FINDINGS_CSV_COLUMNS
    row = dict(zip(FINDINGS_CSV_COLUMNS, rows[1], strict=True))
    assert row["user_name"] == "'=evil"
    assert row["account_name"] == "prod"
    assert row["rule_id"] == "access_key_too_old"
    assert row["measured_value"] == "200"


def test_summary_counts_every_account_status_and_key():
    scanned = AccountResult(
        Account("111111111111"),
        AccountStatus.SCANNED,
        make_inventory(make_user(keys=(make_key("AKIA1"), make_key("AKIA2", active=False))), make_user("b")),
    )
    failed = AccountResult(Account("222222222222"), AccountStatus.FAILED, error_code="AccessDenied")
    skipped = AccountResult(Account("333333333333"), AccountStatus.SKIPPED, error_code="AccountNotActive")
    summary = build_report(run_result(scanned, failed, skipped))["summary"]
    assert summary["accounts"] == {"expected": 3, "scanned": 1, "failed": 1, "skipped": 1, "not_scanned": 0}
    assert (summary["users"], summary["access_keys"], summary["active_access_keys"]) == (2, 2, 1)
    assert summary["findings"]["by_rule"]["inactive_access_key"] == 1


def test_redactor_masks_known_secrets_and_secret_shaped_strings():
    redact = Redactor()
    redact.add("my-external-id", None, "")
    secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    text = f"failed with my-external-id and {secret_key} token={'A' * 300}"
    masked = redact(text)
    assert "my-external-id" not in masked
    assert secret_key not in masked
    assert "A" * 100 not in masked
    assert masked.startswith("failed with ***")


def test_schema_rejects_a_report_that_breaks_the_contract():
    from iam_inventory.publish.render.schema import report_schema_errors

    inventory = make_inventory(make_user(keys=(make_key("AKIAEXAMPLE000000001", age=200),)))
    report = build_report(
        run_result(AccountResult(Account("111111111111"), AccountStatus.SCANNED, inventory))
    )
    assert report_schema_errors(report) == []
    report["accounts"][0]["status"] = "done"
    report["findings"][0]["severity"] = "urgent"
    del report["summary"]["users"]
    errors = report_schema_errors(report)
    assert any(error.startswith("accounts/0/status") for error in errors)
    assert any(error.startswith("findings/0/severity") for error in errors)
    assert any("'users' is a required property" in error for error in errors)
