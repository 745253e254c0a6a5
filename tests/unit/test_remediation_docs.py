"""docs/remediation.md: its examples are valid, and it names every setting it relies on."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from iam_inventory.config.settings import Settings
from iam_inventory.evaluate.exceptions_format import parse_exceptions
from iam_inventory.models import Severity
from iam_inventory.publish.channels.sns import NewFindings, message_attributes
from tests.unit.test_enrich import run
from tests.unit.test_exceptions import make_finding

DOC = Path(__file__).resolve().parents[2] / "docs" / "remediation.md"


def example(name: str) -> object:
    match = re.search(rf"<!-- example: {name} -->\n```json\n(.*?)\n```", DOC.read_text(), re.DOTALL)
    assert match, f"no example {name} in {DOC}"
    return json.loads(match.group(1))


def test_the_exceptions_example_is_a_valid_file():
    # Given the documented example, validated on a date within a year of its expiries
    parsed = parse_exceptions(example("exceptions"), date(2026, 12, 1), "docs")
    # Then all four entries parse, with the match forms the text describes
    assert [
        (item.exception_id, item.match.user, item.match.ou_path, item.match.credential_id)
        for item in parsed.exceptions
    ] == [
        ("ci-legacy-deployer", "ci-*", None, None),
        ("sandbox-old-keys", None, "Root/Sandbox", None),
        ("build-users", "arn:aws:iam::*:user/build/*", None, None),
        ("eval-bedrock-key", None, None, "ACCAQEXAMPLE7BEDROCK"),
    ]


def test_the_sns_filter_policy_uses_the_attributes_notifications_carry():
    # Given the documented filter policy and the attributes a per-owner notification is published with
    policy = example("sns-filter-policy")
    finding = run([make_finding()]).active[0]
    news = NewFindings(
        run_id="r",
        previous_run_id=None,
        listed=(finding.finding,),
        total=1,
        owner=finding.owner,
        severities=(finding.finding.severity.value,),
        accounts=(finding.finding.account_id,),
    )
    attributes = message_attributes(news)
    # Then the policy filters on exactly those attributes, with severities that exist
    assert set(policy) == set(attributes) == {"owner", "severity", "account"}
    assert set(policy["severity"]) <= {severity.value for severity in Severity}


def test_every_new_setting_is_documented():
    text = DOC.read_text()
    aliases = ["OWNER_TAG_KEYS", "OU_OWNERS", "SLA_DAYS", "EXCEPTIONS_S3_URI", "EXCEPTIONS_PARAMETER",
               "REMEDIATION_WAIT_DAYS"]  # fmt: skip
    known = {field.alias for field in Settings.model_fields.values()}
    assert [alias for alias in aliases if alias not in known or alias not in text] == []
