"""The fan-out state machine as template.yaml deploys it: its file, its functions, its substitutions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.cfn_template import load_hub_template

DEFINITION = Path(__file__).resolve().parents[1] / "statemachine/fanout.asl.json"
STATE_MACHINE = "FanoutStateMachine"
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One of the template's fan-out functions, as far as invoking it goes."""

    resource: str
    handler: str
    memory_mb: int
    timeout_seconds: int


def substitution_sources() -> dict[str, Any]:
    """The state machine's DefinitionSubstitutions exactly as template.yaml writes them."""
    properties = load_hub_template()["Resources"][STATE_MACHINE]["Properties"]
    return dict(properties["DefinitionSubstitutions"])


def placeholders() -> set[str]:
    """Every ${Name} the definition file uses."""
    return set(_PLACEHOLDER.findall(DEFINITION.read_text()))


def functions() -> dict[str, FunctionSpec]:
    """The functions the substitutions name (`!GetAtt <resource>.Arn`), by resource name."""
    resources = load_hub_template()["Resources"]
    specs = {}
    for source in substitution_sources().values():
        if "Fn::GetAtt" in source:
            resource, attribute = source["Fn::GetAtt"]
            assert attribute == "Arn"
            properties = resources[resource]["Properties"]
            specs[resource] = FunctionSpec(
                resource, properties["Handler"], properties["MemorySize"], properties["Timeout"]
            )
    return specs


def parameter_defaults() -> dict[str, str]:
    """The template's parameter defaults, as the strings CloudFormation substitutes."""
    return {
        name: str(spec["Default"])
        for name, spec in load_hub_template()["Parameters"].items()
        if "Default" in spec
    }


def substitutions(arns: Mapping[str, str], parameters: Mapping[str, str] | None = None) -> dict[str, str]:
    """DefinitionSubstitutions resolved as CloudFormation does: GetAtt from `arns`, Ref from parameters."""
    values = {**parameter_defaults(), **(parameters or {})}
    resolved = {}
    for name, source in substitution_sources().items():
        if "Fn::GetAtt" in source:
            resolved[name] = arns[source["Fn::GetAtt"][0]]
        else:
            resolved[name] = values[source["Ref"]]
    return resolved


def definition_text(values: Mapping[str, str]) -> str:
    """The definition file after substitution: plain text replacement of each ${Name}."""
    text = DEFINITION.read_text()
    missing = placeholders() - set(values)
    assert not missing, f"placeholders the template does not substitute: {sorted(missing)}"
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)
