"""The rule registry: one record per rule, and nothing in the repository names a rule it does not hold.

Code names rules through the records (`RULES["..."]` fails at import for an unknown id). Text cannot, so
this module reads every place that names a rule in text (the report schema, the docs, the template, the
sample events, exception files and the simulator's expectations) and checks each name is registered.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from pathlib import Path

import pytest

from iam_inventory.evaluate.cis import CisMapping
from iam_inventory.evaluate.privilege import Privilege
from iam_inventory.evaluate.registry import RuleRegistry, Scope, UnknownRule
from iam_inventory.evaluate.remediation import review
from iam_inventory.evaluate.rules import RULE_IDS, RULES, effective_severity, remediation_for
from iam_inventory.models import Severity
from iam_inventory.models.credentials import CredentialType
from iam_inventory.publish.render.schema import report_schema
from iam_inventory_sim.demo_accounts import demo_estate
from tests.unit.test_docs import load_script
from tests.unit.test_exceptions import make_finding

ROOT = Path(__file__).resolve().parents[2]
TEXT_FILES = sorted(
    [
        ROOT / "README.md",
        ROOT / "template.yaml",
        *(ROOT / "docs").glob("*.md"),
        *(ROOT / "events").glob("*.json"),
        *(ROOT / "src").rglob("*.py"),
        *(ROOT / "scripts").glob("*.py"),
    ]
)
# The ways text names a rule: an exceptions or event match, the CLI's --rule, a metric dimension, a
# SQL predicate, a rules table's first column.
_NAMED = (
    re.compile(r'"rule"\s*:\s*"(?P<ids>[^"]+)"'),
    re.compile(r"--rule[ =](?P<ids>[a-z0-9_]+)"),
    re.compile(r"RuleId\s*=\s*(?P<ids>[a-z0-9_]+)"),
    re.compile(r"Name: RuleId\s+Value: (?P<ids>[a-z0-9_]+)"),
    re.compile(r"rule_id\s+IN\s*\((?P<ids>[^)]*)\)"),
    re.compile(r"rule_id\s*=\s*'(?P<ids>[^']+)'"),
)
_TABLE_ROW = re.compile(r"^\| `(?P<ids>[a-z0-9_]+)`(?:, `[a-z0-9_]+`)* \|", re.MULTILINE)
_RULES_TABLES = ("rules.md", "collection.md")


def rule_names_in(text: str, *, tables: bool = False) -> set[str]:
    """Every rule id the text names in one of the recognised forms."""
    names: set[str] = set()
    for pattern in _NAMED:
        for match in pattern.finditer(text):
            names |= {name.strip(" '\"") for name in match.group("ids").split(",")}
    if tables:
        for line in text.splitlines():
            if _TABLE_ROW.match(line):
                names |= set(re.findall(r"`([a-z0-9_]+)`", line.split("|")[1]))
    return {name for name in names if name and "*" not in name and "{" not in name}


def expected_rules_in_python(source: str) -> set[str]:
    """Rule ids in the simulator's expectations: `expect=frozenset({...})` and (account, ..., rule) tuples."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg == "expect":
            names |= {item.value for item in ast.walk(node.value) if isinstance(item, ast.Constant)}
        if (
            isinstance(node, ast.Tuple)
            and len(node.elts) == 4
            and isinstance(node.elts[0], ast.Constant)
            and re.fullmatch(r"\d{12}", str(node.elts[0].value))
            and isinstance(node.elts[3], ast.Constant)
        ):
            names.add(node.elts[3].value)
    return {name for name in names if isinstance(name, str)}


def test_the_scanners_find_a_rule_named_in_each_form():
    # Given text naming a rule in every recognised form, and a simulator expectation
    text = (
        '{"match": {"rule": "a_rule"}} --rule b_rule RuleId=c_rule\n'
        "  - Name: RuleId\n    Value: d_rule\nWHERE f.rule_id IN ('e_rule', 'f_rule') AND rule_id = 'g_rule'"
    )
    table = "| rule | x |\n|---|---|\n| `h_rule`, `i_rule` | y |\n"
    source = 'UserSpec("bob", expect=frozenset({"j_rule"}))\nnew = {("111111111111", "bob", None, "k_rule")}'
    # Then each name is found, so the tests below can fail
    assert rule_names_in(text) == {"a_rule", "b_rule", "c_rule", "d_rule", "e_rule", "f_rule", "g_rule"}
    assert rule_names_in(table, tables=True) == {"h_rule", "i_rule"}
    assert expected_rules_in_python(source) == {"j_rule", "k_rule"}


@pytest.mark.parametrize("path", TEXT_FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_text_names_only_registered_rules(path):
    # Given a file that may name rules (docs, template, events, sources)
    text = path.read_text()
    named = rule_names_in(text, tables=path.name in _RULES_TABLES)
    if path.suffix == ".py" and "iam_inventory_sim" in path.parts:
        named |= expected_rules_in_python(text)
    # Then every rule it names is registered
    assert sorted(named - set(RULE_IDS)) == []


def test_the_demo_estate_expects_only_registered_rules():
    # Given the demo's seeded estate
    expected = {
        rule
        for account in demo_estate()
        for user in account.users
        for rule in (*user.expect, *(rule for key in user.keys for rule in key.expect))
    }
    # Then each expected finding is of a registered rule
    assert expected <= set(RULE_IDS)


def test_the_report_schema_enumerates_exactly_the_registered_rules():
    # Given the report schema's rule enum
    finding = report_schema()["$defs"]["finding"]["properties"]["rule_id"]
    # Then it is the registry's ids, in report order
    assert finding["enum"] == list(RULE_IDS)


def test_the_rules_doc_is_generated_from_the_registry():
    # Given the table generated from the records
    expected = load_script("rules_doc").render_rules()
    # Then the committed file is exactly that (run `make docs` after changing a rule)
    assert (ROOT / "docs" / "rules.md").read_text() == expected


def test_every_rule_record_is_complete():
    for rule in RULES:
        # Then each record has a title, a severity, a reviewed CIS entry and a check
        assert rule.title
        assert rule.severity in Severity
        assert callable(rule.check)
        assert rule.cis_control or rule.cis.note, f"{rule.rule_id}: no control and no note saying why"
        # and a remediation that is more than the generic review text
        finding = make_finding(rule=rule.rule_id, user=None if rule.scope is Scope.ROOT else "ci-deployer")
        if rule.credential not in (None, CredentialType.ACCESS_KEY, CredentialType.PASSWORD):
            finding = replace(finding, access_key_id=None, credential_id="ACCAEXAMPLE000000001")
        assert remediation_for(finding) != review(finding), rule.rule_id


def test_an_unknown_rule_is_refused_by_lookup_and_tolerated_where_old_reports_are_read():
    # When code looks up a rule no module registered
    with pytest.raises(UnknownRule, match="no rule 'access_key_ancient'"):
        RULES["access_key_ancient"]
    # Then reading an old report's rule degrades: no title, a review text, the severity as stored
    assert RULES.get("access_key_ancient") is None
    assert "access_key_ancient" not in RULES
    admin = Privilege(True, "AdministratorAccess attached directly")
    assert effective_severity("access_key_ancient", Severity.LOW, admin) is Severity.LOW


def test_a_rule_registered_twice_is_an_error():
    # Given a registry holding one rule
    registry = RuleRegistry()
    facts = {
        "title": "t",
        "severity": Severity.LOW,
        "cis": CisMapping("", "", "test"),
        "scope": Scope.USER,
        "remedy": lambda finding, options: review(finding),
    }
    registry.register("one_rule", **facts)(lambda rule, inventory, thresholds, now: [])
    # When the same id is registered again, then it is refused
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("one_rule", **facts)(lambda rule, inventory, thresholds, now: [])
    # and merging two registries that share an id is refused too
    with pytest.raises(ValueError, match="registered twice"):
        registry.merged(registry)


def test_privilege_raises_every_user_and_credential_rule_and_no_root_rule():
    raised = {rule.rule_id for rule in RULES if rule.raised_when_privileged}
    root = {"root_access_key_present", "root_mfa_disabled", "root_signing_certificate_active"}
    assert raised == set(RULE_IDS) - root
