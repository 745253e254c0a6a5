"""index.html in headless Chromium (Debian's package): the page a browser shows has the right numbers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

from iam_inventory.publish.document import build_report
from iam_inventory.publish.render.html import render_html
from tests.outputs_support import varied_run
from tests.unit.test_credential_inventory import holder_run

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# No GPU, no sandbox (containers), and nothing that phones home: the page itself must load nothing either.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None,
    reason=f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium package",
)


def rendered_dom(page: Path, profile: Path) -> str:
    """The DOM after Chromium loaded and laid out the page."""
    return rendered_dom_of(page.as_uri(), profile)


def shown_counts(dom: str) -> dict[str, int]:
    """Every data-count element's number as rendered."""
    return {name: int(value) for name, value in re.findall(r'data-count="([^"]+)">(\d+)<', dom)}


def test_chromium_renders_the_report_with_the_report_s_numbers(tmp_path):
    # Given the report of a run with findings in every severity, a failed and a skipped account,
    # and three earlier runs in the history
    report = build_report(varied_run())
    history = [
        {
            "run_id": f"r{i}",
            "started_at": f"2026-11-2{i}T06:00:00Z",
            "findings": n,
            "by_severity": {"high": 1},
        }
        for i, n in enumerate((7, 5, report["summary"]["findings"]["total"]), start=1)
    ]
    page = tmp_path / "index.html"
    page.write_bytes(render_html(report, history, console_role_name="SecurityAudit"))
    # When Chromium loads it
    dom = rendered_dom(page, tmp_path / "profile")
    # Then the counts it shows are the report's
    summary = report["summary"]
    counts = shown_counts(dom)
    assert counts["findings-total"] == summary["findings"]["total"]
    assert counts["accounts-scanned"] == summary["accounts"]["scanned"] == 1
    assert counts["accounts-failed"] == 1
    assert counts["users"] == summary["users"]
    assert counts["active-access-keys"] == summary["active_access_keys"]
    for severity, count in summary["findings"]["by_severity"].items():
        assert counts[f"severity-{severity}"] == count
    for rule_id, count in summary["findings"]["by_rule"].items():
        assert counts[f"rule-{rule_id}"] == count
    # And one findings row per finding, the trend chart with a point per run, a link per account
    findings_table = dom[dom.index('id="findings"') : dom.index("</table>", dom.index('id="findings"'))]
    assert findings_table.count("<tr data-severity=") == summary["findings"]["total"]
    assert dom.count("<circle") == 2 * len(history)
    # (a link only for the one scanned account: there is nothing to see in a failed or skipped one)
    assert dom.count("https://signin.aws.amazon.com/switchrole?account=") == 1
    # And the critical-count card, and findings before owners before accounts
    assert counts["findings-critical"] == summary["findings"]["by_severity"]["critical"]
    assert dom.index('id="findings"') < dom.index("<h2>Owners") < dom.index('id="accounts"')
    # And the hostile tag value is text in the rendered page, not an element
    assert "<script>alert(1)</script>" not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom


def visible_rows(dom: str) -> list[str]:
    """The data-severity of each findings row the filter left visible (hidden rows carry `hidden`)."""
    table = dom[dom.index('<table id="findings"') : dom.index("</table>", dom.index('<table id="findings"'))]
    rows = [
        match.group(1) for match in re.finditer(r"<tr ([^>]*)>", table) if "data-severity" in match.group(1)
    ]
    return [
        re.search(r'data-severity="([^"]+)"', attributes).group(1)
        for attributes in rows
        if not re.search(r'(^| )hidden(=""|\b)', attributes)
    ]


def test_the_inline_script_runs_under_the_csp_and_filters_by_the_address(tmp_path):
    # Given the page of a run with findings of several severities and owners
    report = build_report(varied_run())
    page = tmp_path / "index.html"
    page.write_bytes(render_html(report, [], console_role_name="SecurityAudit"))
    severities = [finding["severity"] for finding in report["findings"]]
    # When Chromium opens it filtered to critical findings, then to one owner and medium ones
    critical = rendered_dom_of(page.as_uri() + "#severity=critical", tmp_path / "p1")
    owner = "<script>alert(1)</script>"
    by_owner = rendered_dom_of(page.as_uri() + "#owner=" + quote(owner) + "&severity=medium", tmp_path / "p2")
    # Then the script ran (the filters are shown, the count filled) and only matching rows stay visible
    assert 'id="filters" class="filters" hidden' not in critical
    assert visible_rows(critical) == ["critical"] * severities.count("critical")
    assert f'<b id="f-shown">{severities.count("critical")}</b>' in critical
    expected = [
        f["severity"] for f in report["findings"] if f["owner"] == owner and f["severity"] == "medium"
    ]
    assert expected
    assert visible_rows(by_owner) == expected


def rendered_dom_of(url: str, profile: Path) -> str:
    """The DOM after Chromium ran the page's script, for a URL (with its #filters)."""
    completed = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return completed.stdout


def test_the_page_counts_each_credential_type_and_filters_by_kind(tmp_path):
    # Given the page of a run whose user holds every kind of credential, each with a finding
    report = build_report(holder_run())
    page = tmp_path / "index.html"
    page.write_bytes(render_html(report, []))
    # When Chromium opens it filtered to the SSH key findings, then to the service credentials
    ssh = rendered_dom_of(page.as_uri() + "#credential=ssh_key", tmp_path / "p1")
    service = rendered_dom_of(page.as_uri() + "#credential=service_credential", tmp_path / "p2")
    # Then the summary shows each kind's count as the report has it
    counts = shown_counts(ssh)
    for kind, item in report["summary"]["credentials"].items():
        assert (counts[f"credentials-{kind}"], counts[f"active-{kind}"]) == (item["total"], item["active"])
    # And only the findings about that kind of credential stay visible
    by_kind = [finding["credential_type"] for finding in report["findings"]]
    assert len(visible_rows(ssh)) == by_kind.count("ssh_key") == 1
    assert len(visible_rows(service)) == by_kind.count("service_credential") == 2
    # And the filter offers every kind present (and "none" for a finding about no credential)
    options = re.findall(
        r'<option value="([^"]*)">', ssh[ssh.index('id="f-credential"') :].split("</select>")[0]
    )
    assert options == ["", *sorted({kind or "none" for kind in by_kind})]
