"""One inventory of credentials: report.json, inventory.csv/jsonl and the page carry every kind (1.6)."""

from __future__ import annotations

import copy
import csv
import io
import json
from dataclasses import replace
from datetime import timedelta

from iam_inventory.evaluate.owners import OwnerConfig
from iam_inventory.evaluate.rules import evaluate
from iam_inventory.models import Account, AccountResult, AccountStatus, RunContext, RunResult, Thresholds
from iam_inventory.models.credentials import ServiceCredential, SigningCertificate, SshPublicKey
from iam_inventory.publish.document import build_report, render_findings_csv, render_inventory_csv
from iam_inventory.publish.render.html import render_html
from iam_inventory.publish.render.rows import FINDINGS_CSV_COLUMNS, INVENTORY_CSV_COLUMNS
from iam_inventory.publish.render.schema import report_schema_errors
from iam_inventory_cli.main import main as cli_main
from iam_inventory_cli.plan import build_plan
from tests.builders import NOW, days_ago, make_inventory, make_key, make_user

BEDROCK, LOGS = "bedrock.amazonaws.com", "logs.amazonaws.com"
NEW_USER_FIELDS = ("password_changed_at", "service_credentials", "ssh_public_keys", "signing_certificates")


def holder_run() -> RunResult:
    """One user holding every kind: a key, a password, two service credentials, an SSH key, a certificate."""
    created = days_ago(12)
    user = replace(
        make_user("dev", keys=(make_key("AKIADEV0000000000001", age=30, used=1),), console=True, mfa=True),
        password_changed_at=days_ago(40),
        service_credentials=(
            ServiceCredential("ACCADEVBEDROCK000001", "bedrock.amazonaws.com", "dev-at-1", "Active", created),
            ServiceCredential(
                "ACCADEVLOGS000000001",
                "logs.amazonaws.com",
                "dev-at-2",
                "Expired",
                days_ago(40),
                days_ago(10),
            ),
        ),
        ssh_public_keys=(SshPublicKey("APKADEV0000000000001", "Active", days_ago(400)),),
        ssh_keys_read=True,
        signing_certificates=(SigningCertificate("CERTDEV0000000000000000001", "Inactive", days_ago(900)),),
    )
    inventory = replace(make_inventory(user), root_signing_certificate_active=True)
    context = RunContext("run-1", NOW, False, Thresholds(), "IAMListRole", "/", "manual")
    result = AccountResult(Account("111111111111", "prod"), AccountStatus.SCANNED, inventory)
    findings = evaluate(inventory, context.thresholds, NOW)
    return RunResult(context=context, accounts=[result], findings=findings, finished_at=NOW + timedelta(1))


def rows(body: bytes, columns: tuple[str, ...]) -> list[dict[str, str]]:
    lines = list(csv.reader(io.StringIO(body.decode())))
    assert tuple(lines[0]) == columns
    return [dict(zip(columns, line, strict=True)) for line in lines[1:]]


def test_the_inventory_has_one_row_per_credential_with_its_type_id_status_dates_and_service():
    # Given a user holding every kind of credential
    report = build_report(holder_run())
    # When the inventory CSV is written
    records = rows(render_inventory_csv(report), INVENTORY_CSV_COLUMNS)
    # Then each credential is one row: type, id, status, created, expires, last used, service
    assert [
        (
            r["credential_type"],
            r["credential_id"],
            r["credential_status"],
            r["credential_created_at"][:10],
            r["credential_expires_at"][:10],
            r["credential_last_used_at"][:10],
            r["credential_service"],
        )
        for r in records
    ] == [
        ("access_key", "AKIADEV0000000000001", "Active", "2026-10-24", "", "2026-11-22", "s3"),
        ("password", "", "Active", "2026-10-14", "", "2026-11-22", ""),
        (
            "service_credential",
            "ACCADEVBEDROCK000001",
            "Active",
            "2026-11-11",
            "",
            "",
            "bedrock.amazonaws.com",
        ),
        (
            "service_credential",
            "ACCADEVLOGS000000001",
            "Expired",
            "2026-10-14",
            "2026-11-13",
            "",
            "logs.amazonaws.com",
        ),
        ("ssh_key", "APKADEV0000000000001", "Active", "2025-10-19", "", "", "codecommit.amazonaws.com"),
        ("signing_certificate", "CERTDEV0000000000000000001", "Inactive", "2024-06-06", "", "", ""),
    ]
    # and the access key row keeps its 1.0 key columns, the others leave them empty
    assert records[0]["access_key_id"] == records[0]["credential_id"]
    assert {r["access_key_id"] for r in records[1:]} == {""}


def test_the_report_counts_each_type_validates_and_names_each_finding_credential():
    # Given the same run
    report = build_report(holder_run())
    # Then the summary counts each kind, held and active
    assert report["summary"]["credentials"] == {
        "access_key": {"total": 1, "active": 1},
        "password": {"total": 1, "active": 1},
        "service_credential": {"total": 2, "active": 1},
        "ssh_key": {"total": 1, "active": 1},
        "signing_certificate": {"total": 1, "active": 0},
    }
    # and the report is valid 1.6, each finding naming the kind and id of its credential
    assert report["schema_version"] == "1.6"
    assert report_schema_errors(report) == []
    pointed = {(f["rule_id"], f["credential_type"], f["credential_id"]) for f in report["findings"]}
    assert pointed == {
        ("api_key_never_expires", "service_credential", "ACCADEVBEDROCK000001"),
        ("inactive_service_credential", "service_credential", "ACCADEVLOGS000000001"),
        ("ssh_key_too_old", "ssh_key", "APKADEV0000000000001"),
        ("inactive_signing_certificate", "signing_certificate", "CERTDEV0000000000000000001"),
        ("root_signing_certificate_active", "signing_certificate", None),
    }
    findings = rows(render_findings_csv(report), FINDINGS_CSV_COLUMNS)
    assert {row["credential_id"] for row in findings} >= {"APKADEV0000000000001"}


def test_the_page_counts_each_type_and_filters_by_credential_kind():
    # When the page is rendered
    page = render_html(build_report(holder_run())).decode()
    # Then the summary has a count per type and the findings rows carry their kind for the filter
    assert "<h2>Credentials by type</h2>" in page
    assert 'data-count="credentials-service_credential">2<' in page
    assert 'data-count="active-signing_certificate">0<' in page
    assert 'data-credential="ssh_key"' in page
    assert 'id="f-credential"' in page


def test_a_1_5_report_without_the_new_fields_still_renders(tmp_path, capsys):
    # Given a report as 1.5 wrote it: no credential fields on findings, users, accounts, run or summary
    report = copy.deepcopy(build_report(holder_run()))
    report["schema_version"] = "1.5"
    del report["summary"]["credentials"], report["run"]["thresholds"]["max_api_key_lifetime_days"]
    for finding in report["findings"]:
        del finding["credential_type"], finding["credential_id"]
    for account in report["inventory"]:
        del account["root_signing_certificate_active"], account["unreadable_credential_kinds"]
        for user in account["users"]:
            for field in NEW_USER_FIELDS:
                del user[field]
            del user["ssh_keys_read"]
    # Then it is valid under the current schema, so `iam-inventory report` re-renders it
    assert report_schema_errors(report) == []
    saved = tmp_path / "report-1.5.json"
    saved.write_text(json.dumps(report))
    assert cli_main(["report", str(saved), "--format", "html"]) == 0
    assert "<h1>IAM users and their credentials</h1>" in capsys.readouterr().out
    # When its page and CSV are rendered
    page = render_html(report).decode()
    records = rows(render_inventory_csv(report), INVENTORY_CSV_COLUMNS)
    # Then both work: no type counts, keys and password as rows
    assert "Credentials by type" not in page
    assert [r["credential_type"] for r in records] == ["access_key", "password"]
    # And the findings CSV leaves the 1.6 columns empty, and a plan is still made from the report
    findings = rows(render_findings_csv(report), FINDINGS_CSV_COLUMNS)
    assert {(row["credential_type"], row["credential_id"]) for row in findings} == {("", "")}
    plan = build_plan(report, NOW, 14, OwnerConfig())
    assert plan.credentials == ()
    assert {item.rule_id for item in plan.manual} >= {"root_signing_certificate_active"}
