"""Helpers shared by the output tests: a varied run, the Glue columns from template.yaml, JSONL checks."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from iam_inventory.evaluate.rules import evaluate
from iam_inventory.models import Account, AccountResult, AccountStatus, RunContext, RunResult, Thresholds
from tests.builders import NOW, make_inventory, make_key, make_user

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


def varied_run(run_id: str = "run-1") -> RunResult:
    """Accounts in every state; users with and without keys, tags, and a hostile name."""
    tagged = replace(
        make_user("=evil", keys=(make_key("AKIAEVIL000000000001", age=200, used=1),), console=True),
        tags={"owner": "<script>alert(1)</script>", "team": "+payments"},
    )
    prod = make_inventory(
        tagged,
        make_user("no-keys"),
        make_user(
            "two", keys=(make_key("AKIATWO0000000000001"), make_key("AKIATWO0000000000002", used=None))
        ),
        root_keys=True,
    )
    results = [
        AccountResult(Account("111111111111", "prod <main>"), AccountStatus.SCANNED, prod),
        AccountResult(
            Account("222222222222", "gone"),
            AccountStatus.FAILED,
            error_code="AccessDenied",
            error_message="assume_role: <b>denied</b>",
        ),
        AccountResult(
            Account("333333333333", "closed"), AccountStatus.SKIPPED, error_code="AccountNotActive"
        ),
    ]
    context = RunContext(
        run_id, NOW, False, Thresholds(), "IAMListRole", "/", "manual", user_tag_keys=("owner", "team")
    )
    findings = [f for r in results if r.inventory for f in evaluate(r.inventory, context.thresholds, NOW)]
    return RunResult(context=context, accounts=results, findings=findings, finished_at=NOW)


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short-form tags (!Ref, !Sub...) as plain values."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_CfnLoader.add_multi_constructor("!", _intrinsic)


def template() -> dict[str, Any]:
    """template.yaml as data."""
    return yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)


def glue_columns(table_name: str) -> dict[str, str]:
    """Column name -> Glue type of a table in template.yaml (partition keys excluded)."""
    for resource in template()["Resources"].values():
        if (
            resource["Type"] == "AWS::Glue::Table"
            and resource["Properties"]["TableInput"]["Name"] == table_name
        ):
            columns = resource["Properties"]["TableInput"]["StorageDescriptor"]["Columns"]
            return {column["Name"]: column["Type"] for column in columns}
    raise AssertionError(f"no Glue table {table_name} in template.yaml")


def json_matches_glue_type(value: Any, glue_type: str) -> bool:
    """Whether a JSON value can be read by the OpenX SerDe as the Glue column type (null always can)."""
    if value is None:
        return True
    if glue_type == "string":
        return isinstance(value, str)
    if glue_type in ("bigint", "int"):
        return isinstance(value, int) and not isinstance(value, bool)
    if glue_type == "boolean":
        return isinstance(value, bool)
    if glue_type == "map<string,string>":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    raise AssertionError(f"type {glue_type} not covered by the contract test")


def jsonl_contract_violations(body: bytes, columns: dict[str, str]) -> list[str]:
    """Every field/column mismatch between JSON Lines and a Glue column list (empty when they agree)."""
    problems = []
    lines = body.decode().splitlines()
    if not lines:
        return ["no rows to check"]
    for number, line in enumerate(lines, start=1):
        row = json.loads(line)
        if list(row) != list(columns):
            problems.append(f"line {number}: fields {list(row)} != columns {list(columns)}")
        for name, value in row.items():
            if name in columns and not json_matches_glue_type(value, columns[name]):
                problems.append(f"line {number}: {name}={value!r} is not {columns[name]}")
    return problems
