"""The streamed report.json is byte for byte the report built as one document."""

from __future__ import annotations

import json

import pytest

from iam_inventory.models import Account, AccountResult, AccountStatus, RunContext, RunResult, Thresholds
from iam_inventory.report import build_report, render_findings_csv, render_report_json
from iam_inventory.report_stream import render_findings_csv_lean, render_report_json_lean
from iam_inventory.rules import evaluate
from tests.builders import NOW, make_inventory, make_key, make_user


def run_result(*results: AccountResult) -> RunResult:
    context = RunContext("run-1", NOW, False, Thresholds(), "IAMListRole", "/", "manual")
    findings = [f for r in results if r.inventory for f in evaluate(r.inventory, context.thresholds, NOW)]
    return RunResult(context=context, accounts=list(results), findings=findings, finished_at=NOW)


def scanned(account_id: str, *users) -> AccountResult:
    return AccountResult(
        Account(account_id, "naïve \u2028 name"),
        AccountStatus.SCANNED,
        make_inventory(*users, account_id=account_id, root_keys=True),
    )


CASES = {
    "several accounts, a failed one between": run_result(
        scanned(
            "111111111111", make_user("ålice", keys=(make_key(age=400),)), make_user("bob", console=True)
        ),
        AccountResult(
            Account("222222222222"), AccountStatus.FAILED, error_code="AccessDenied", error_message="x"
        ),
        scanned("333333333333", make_user("carol", keys=(make_key("AKIAEXAMPLE000000002", used=None),))),
    ),
    "an account with no users": run_result(scanned("111111111111")),
    "no inventory at all": run_result(
        AccountResult(
            Account("222222222222"), AccountStatus.FAILED, error_code="AccessDenied", error_message="x"
        )
    ),
}


@pytest.mark.parametrize("result", CASES.values(), ids=CASES.keys())
def test_streamed_report_is_identical_to_the_whole_document(result):
    # Given a run
    # When report.json is rendered account by account
    skeleton, streamed = render_report_json_lean(result)

    # Then the bytes are exactly those of the report rendered as one document
    assert streamed == render_report_json(build_report(result))
    # And the skeleton has everything but the inventory and findings, for the summary
    assert skeleton == {**json.loads(streamed), "inventory": [], "findings": []}
    # And the CSV rendered batch by batch is the CSV of the whole report
    assert render_findings_csv_lean(result, skeleton) == render_findings_csv(build_report(result))


def test_findings_beyond_one_batch_render_identically(monkeypatch):
    # Given more findings than one batch holds
    monkeypatch.setattr("iam_inventory.report_stream._BATCH", 2)
    users = [
        make_user(f"u{i}", keys=(make_key(f"AKIAEXAMPLE00000000{i}", age=400, used=None),)) for i in range(3)
    ]
    result = run_result(scanned("111111111111", *users))
    assert len(result.findings) > 4

    # Then both files are still byte for byte those of the whole document
    skeleton, streamed = render_report_json_lean(result)
    assert streamed == render_report_json(build_report(result))
    assert render_findings_csv_lean(result, skeleton) == render_findings_csv(build_report(result))
