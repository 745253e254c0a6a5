"""Read the spoke CloudFormation template and render its policies for given parameters (tests only)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

SPOKE_TEMPLATE = Path(__file__).resolve().parents[1] / "spoke" / "template.yaml"
HUB_TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"
_NO_VALUE = object()


def load_spoke_template() -> dict[str, Any]:
    """The spoke template as data, intrinsic functions as {"Ref": ...}/{"Fn::If": ...} dicts."""
    return cfn_yaml.load(str(SPOKE_TEMPLATE))


def load_hub_template() -> dict[str, Any]:
    """The hub (SAM) template as data."""
    return cfn_yaml.load(str(HUB_TEMPLATE))


def hub_statement(template: dict[str, Any], sid: str) -> dict[str, Any]:
    """One statement of the hub role's policy, by Sid (conditional statements unwrapped)."""
    for policy in template["Resources"]["InventoryRole"]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in statement:
                statement = statement["Fn::If"][1]
            if statement.get("Sid") == sid:
                return statement
    raise KeyError(sid)


def granted_actions(template: dict[str, Any]) -> set[str]:
    """Every action the spoke role's own policies allow."""
    actions: set[str] = set()
    for policy in template["Resources"]["SpokeRole"]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            action = statement["Action"]
            actions.update([action] if isinstance(action, str) else action)
    return actions


def render(template: dict[str, Any], node: Any, parameters: dict[str, str], account_id: str) -> Any:
    """Resolve Ref, Fn::If, Fn::Sub, Fn::Equals and Fn::Not as CloudFormation would for these values."""
    values = {
        **{name: spec.get("Default", "") for name, spec in template["Parameters"].items()},
        **parameters,
        "AWS::AccountId": account_id,
        "AWS::Partition": "aws",
    }

    def condition(name: str) -> bool:
        return bool(resolve(template["Conditions"][name]))

    def resolve(item: Any) -> Any:
        if isinstance(item, list):
            return [value for value in (resolve(entry) for entry in item) if value is not _NO_VALUE]
        if not isinstance(item, dict):
            return item
        if set(item) == {"Ref"}:
            return _NO_VALUE if item["Ref"] == "AWS::NoValue" else values[item["Ref"]]
        if set(item) == {"Fn::If"}:
            name, when_true, when_false = item["Fn::If"]
            return resolve(when_true if condition(name) else when_false)
        if set(item) == {"Fn::Equals"}:
            left, right = (resolve(entry) for entry in item["Fn::Equals"])
            return left == right
        if set(item) == {"Fn::Not"}:
            return not resolve(item["Fn::Not"][0])
        if set(item) == {"Fn::Sub"}:
            return re.sub(r"\$\{([^}]+)\}", lambda match: str(values[match.group(1)]), item["Fn::Sub"])
        rendered = {key: resolve(value) for key, value in item.items()}
        return {key: value for key, value in rendered.items() if value is not _NO_VALUE}

    return resolve(node)
