"""Outputs for the security team: CSV columns, Athena JSONL vs the Glue tables, the HTML page, the schema."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re

import pytest

from iam_inventory.evaluate.finding_enrichment import ENRICHED_CSV_COLUMNS
from iam_inventory.publish.document import (
    build_report,
    render_files,
    render_findings_csv,
    render_inventory_csv,
)
from iam_inventory.publish.render.athena import FINDINGS_TABLE, INVENTORY_TABLE, manifest_key, runs_key
from iam_inventory.publish.render.html import render_html
from iam_inventory.publish.render.html_accounts import switch_role_link
from iam_inventory.publish.render.htmltable import FILTER_SCRIPT
from iam_inventory.publish.render.rows import FINDINGS_CSV_COLUMNS, INVENTORY_CSV_COLUMNS
from iam_inventory.publish.render.schema import report_schema_errors
from tests.outputs_support import glue_columns, jsonl_contract_violations, varied_run


def csv_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode())))


def test_inventory_csv_has_one_row_per_credential_plus_users_without_any():
    # Given an account with a one-key console user, a user with nothing and a two-key user (a failed
    # account has no rows)
    report = build_report(varied_run())
    # When
    rows = csv_rows(render_inventory_csv(report))
    # Then the header is the documented order and there are 2 + 1 + 2 rows (1.6: the password is a row)
    assert tuple(rows[0]) == INVENTORY_CSV_COLUMNS
    records = [dict(zip(INVENTORY_CSV_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert [(r["user_name"], r["access_key_id"], r["credential_type"]) for r in records] == [
        ("'=evil", "AKIAEVIL000000000001", "access_key"),
        ("'=evil", "", "password"),
        ("no-keys", "", ""),
        ("two", "AKIATWO0000000000001", "access_key"),
        ("two", "AKIATWO0000000000002", "access_key"),
    ]
    records = [records[0], records[2], records[3], records[4]]
    assert records[0]["account_name"] == "prod <main>"
    assert (records[0]["key_age_days"], records[0]["console_access"], records[0]["mfa_enabled"]) == (
        "200",
        "true",
        "false",
    )
    assert records[3]["key_never_used"] == "true"
    assert records[1]["key_status"] == ""


def test_tags_reach_both_csvs_and_cannot_run_as_formulas():
    # Given a user tagged team=+payments (a formula prefix) with findings
    report = build_report(varied_run())
    # When
    findings = [
        dict(zip(FINDINGS_CSV_COLUMNS, row, strict=True)) for row in csv_rows(render_findings_csv(report))[1:]
    ]
    inventory = [
        dict(zip(INVENTORY_CSV_COLUMNS, row, strict=True))
        for row in csv_rows(render_inventory_csv(report))[1:]
    ]
    # Then the tag cell is readable text and starts with no formula character
    evil = next(row for row in findings if row["rule_id"] == "access_key_too_old")
    assert evil["tags"] == "owner=<script>alert(1)</script>; team=+payments"
    assert evil["user_name"] == "'=evil"
    assert inventory[0]["tags"] == evil["tags"]
    for row in [*findings, *inventory]:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), row


def test_findings_csv_keeps_the_1_0_columns_in_front():
    # The first twelve columns are those of schema 1.0; 1.1 only appended.
    assert FINDINGS_CSV_COLUMNS[:12] == (
        "finding_id",
        "account_id",
        "account_name",
        "rule_id",
        "severity",
        "cis_control",
        "user_name",
        "access_key_id",
        "measured_value",
        "threshold",
        "unit",
        "message",
    )
    assert FINDINGS_CSV_COLUMNS[12:15] == ("tags", "first_seen_at", "is_new")
    # 1.3 appends owner, privilege, lifecycle, exception and remediation (test_enrich pins their names)
    enriched_end = 15 + len(ENRICHED_CSV_COLUMNS)
    assert FINDINGS_CSV_COLUMNS[15:enriched_end] == ENRICHED_CSV_COLUMNS
    # 1.6 appends the credential's kind and id
    assert FINDINGS_CSV_COLUMNS[enriched_end:] == ("credential_type", "credential_id")


@pytest.mark.parametrize("table", [FINDINGS_TABLE, INVENTORY_TABLE])
def test_every_jsonl_field_is_a_glue_column_of_the_right_type_and_vice_versa(table):
    # Given a run with every kind of value (nulls, ints, booleans, tags)
    run = varied_run()
    # When the rows are rendered for Athena
    body = render_files(run)[f"{table}.jsonl"]
    # Then field names, order and types match the Glue table in template.yaml exactly
    assert jsonl_contract_violations(body, glue_columns(table)) == []


def test_contract_check_catches_a_drifted_column():
    # Given the findings table with one column renamed and one retyped, as a careless edit would
    columns = glue_columns(FINDINGS_TABLE)
    drifted = {("severity_label" if name == "severity" else name): kind for name, kind in columns.items()}
    drifted["measured_value"] = "string"
    # When / Then the contract check reports both
    problems = jsonl_contract_violations(render_files(varied_run())["findings.jsonl"], drifted)
    assert any("fields" in problem for problem in problems)
    assert any("measured_value" in problem for problem in problems)


def test_commit_keys_are_deterministic_per_run_and_day():
    started, run_id = "2026-11-23T06:00:00Z", "20261123T060000Z-scheduled"
    assert manifest_key(FINDINGS_TABLE, started, run_id) == f"athena/findings/dt=2026-11-23/{run_id}.manifest"
    assert (
        manifest_key(INVENTORY_TABLE, started, run_id) == f"athena/inventory/dt=2026-11-23/{run_id}.manifest"
    )
    assert runs_key(started, run_id) == f"athena/runs/dt=2026-11-23/{run_id}.json"


def test_report_1_3_validates_and_carries_tags_status_and_changes():
    report = build_report(varied_run())
    assert report["schema_version"] == "1.6"
    assert (report["run"]["status"], report["changes"]["state"]["status"]) == ("degraded", "none")
    assert report_schema_errors(report) == []
    evil = next(f for f in report["findings"] if f["user_name"] == "=evil")
    assert evil["tags"] == {"owner": "<script>alert(1)</script>", "team": "+payments"}
    assert evil["is_new"] is True
    assert evil["first_seen_at"] == "2026-11-23T06:00:00Z"
    assert report["changes"]["previous_run_id"] is None
    assert report["changes"]["new"] == len(report["findings"])
    # And the schema refuses a tag that is not a string, and a changes section without its counts
    evil["tags"]["owner"] = 7
    del report["changes"]["resolved"]
    errors = report_schema_errors(report)
    assert any(error.startswith("findings/") and "tags/owner" in error for error in errors)
    assert any("'resolved' is a required property" in error for error in errors)


def test_html_escapes_every_value_and_loads_nothing_from_outside():
    # Given a tag holding a script tag, an account name and an error message with markup
    report = build_report(varied_run())
    # When
    page = render_html(report, history=[]).decode()
    # Then no injected markup survives, and the page references no external resource
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "prod &lt;main&gt;" in page
    assert "&lt;b&gt;denied&lt;/b&gt;" in page
    assert not re.search(r"<(link|img|iframe)\b", page)
    # And the one script is the filter script, allowed by its hash and nothing else
    assert re.findall(r"<script>(.*?)</script>", page, re.S) == [FILTER_SCRIPT]
    digest = base64.b64encode(hashlib.sha256(FILTER_SCRIPT.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page
    assert "unsafe-inline'" not in page.split("script-src", 1)[1].split('"', 1)[0]
    assert not re.search(r"\bsrc=", page)
    external = set(re.findall(r"https?://[^\"'\s<]+", page)) - {"http://www.w3.org/2000/svg"}
    assert all(url.startswith("https://signin.aws.amazon.com/switchrole?") for url in external), external
    assert "default-src 'none'" in page


def test_html_shows_counts_and_a_switch_role_link_per_scanned_account_only():
    report = build_report(varied_run())
    page = render_html(report, history=[], console_role_name="SecurityAudit").decode()
    total = report["summary"]["findings"]["total"]
    assert f'data-count="findings-total">{total}<' in page
    assert 'data-count="severity-critical">1<' in page  # the root access key
    assert 'data-count="accounts-failed">1<' in page
    scanned = [item["account_id"] for item in report["accounts"] if item["status"] == "scanned"]
    for account_id in scanned:
        link = switch_role_link(account_id, "SecurityAudit")
        assert link.replace("&", "&amp;") in page
    assert page.count("switch role</a>") == len(scanned) == 1
    # And without a console role configured, no link at all
    assert "switch role</a>" not in render_html(report, history=[]).decode()


def test_html_names_a_cis_control_only_where_a_rule_has_one():
    # Given a run whose findings include rules with a CIS control and one without (an inactive key)
    report = build_report(varied_run())
    report["findings"][-1].update(rule_id="inactive_access_key", cis_control="")
    controls = {finding["rule_id"]: finding["cis_control"] for finding in report["findings"]}
    assert "" in controls.values()
    assert any(controls.values())
    # When
    page = render_html(report, history=[]).decode()
    # Then each rule cell says "CIS <control>" when there is one, and never a bare "CIS"
    for rule, control in controls.items():
        cell = re.search(rf"<td><code>{rule}</code>(.*?)</td>", page)
        assert cell is not None, rule
        assert cell.group(1) == (f" <small>CIS {control}</small>" if control else ""), rule


def test_switch_role_link_is_url_encoded():
    link = switch_role_link("111111111111", "Audit", "prod & co")
    assert link == (
        "https://signin.aws.amazon.com/switchrole?account=111111111111&roleName=Audit&displayName=prod+%26+co"
    )


def test_trend_chart_plots_one_point_per_run():
    # Given three previous runs in the history
    history = [
        {
            "run_id": f"r{i}",
            "started_at": f"2026-11-2{i}T06:00:00Z",
            "findings": n,
            "by_severity": {"high": 1},
        }
        for i, n in enumerate((4, 9, 6), start=1)
    ]
    # When
    page = render_html(build_report(varied_run()), history=history).decode()
    # Then the SVG has a point per run for each of its two lines, and the highest value labels the axis
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert 'data-runs="3"' in svg
    assert svg.count("<circle") == 6
    assert ">9</text>" in svg


def test_run_files_are_rendered_in_publish_order_with_the_state_last():
    files = render_files(varied_run())
    report = json.loads(files["report.json"])
    assert list(files) == [
        "report.json",
        "findings.csv",
        "inventory.csv",
        "history.json",
        "index.html",
        "findings.jsonl",
        "inventory.jsonl",
        *(f"owners/{entry['file'].split('/')[1]}" for entry in report["owners"]),
        "state.jsonl.gz",
    ]
    assert {entry["owner"] for entry in report["owners"]} == {"unowned", "<script>alert(1)</script>"}
    history = json.loads(files["history.json"])
    assert history["runs"][-1]["findings"] == report["summary"]["findings"]["total"]


def test_html_lists_the_most_severe_findings_and_points_at_the_csv_for_the_rest(monkeypatch):
    # Given a run with more findings than the page lists
    from iam_inventory.publish.render import htmltable

    report = build_report(varied_run())
    total = len(report["findings"])
    assert total > 2
    monkeypatch.setattr(htmltable, "MAX_FINDING_ROWS", 2)
    # When the page is rendered
    page = render_html(report, history=[]).decode()
    table = page[
        page.index('<table id="findings">') : page.index("</table>", page.index('<table id="findings">'))
    ]
    # Then it says how many there are, lists the two most severe, and names where the rest are
    assert f"<h2>Findings ({total})</h2>" in page
    assert f"The 2 most severe of {total} findings are listed" in page
    assert table.count("<tr") == 1 + 2  # header + rows
    most_severe = sorted(
        report["findings"], key=lambda f: ["critical", "high", "medium", "low"].index(f["severity"])
    )[0]
    assert htmltable.esc(most_severe["rule_id"]) in table
