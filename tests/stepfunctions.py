"""Runs statemachine/fanout.asl.json against the real handlers: every payload is built by the file's own
Parameters, ResultSelector, ItemReader and ItemSelector, evaluated here (JSONPath and the one intrinsic
the file uses), so a change to the file is a change to what the tests send the handlers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from jsonpath_ng import parse

DEFINITION = Path(__file__).resolve().parents[1] / "statemachine/fanout.asl.json"
FUNCTIONS = {
    "DiscoverFunctionArn": "discover",
    "WorkerFunctionArn": "worker",
    "FinalizeFunctionArn": "finalize",
}
_STRING_TO_JSON = re.compile(r"^States\.StringToJson\('(?P<text>.*)'\)$")
Handler = Callable[[dict[str, Any], Any], Any]


def load_definition(max_concurrency: int = 10, tolerated_failure_percentage: int = 20) -> dict[str, Any]:
    """The ASL file after CloudFormation's DefinitionSubstitutions (plain text replacement)."""
    substitutions = {
        **FUNCTIONS,
        "MaxConcurrency": str(max_concurrency),
        "ToleratedFailurePercentage": str(tolerated_failure_percentage),
    }
    text = DEFINITION.read_text()
    for name, value in substitutions.items():
        text = text.replace(f"${{{name}}}", value)
    assert "${" not in text, "a substitution the template does not provide"
    return json.loads(text)


def select(template: Any, data: Any, context: Mapping[str, Any] | None = None) -> Any:
    """A payload template evaluated like Step Functions: `key.$` fields are paths or intrinsics."""
    if isinstance(template, dict):
        built = {}
        for key, value in template.items():
            if key.endswith(".$"):
                built[key[:-2]] = evaluate(value, data, context or {})
            else:
                built[key] = select(value, data, context)
        return built
    if isinstance(template, list):
        return [select(value, data, context) for value in template]
    return template


def evaluate(expression: str, data: Any, context: Mapping[str, Any]) -> Any:
    """One `.$` value: a JSONPath on the input, `$$.` on the context object, or States.StringToJson."""
    intrinsic = _STRING_TO_JSON.match(expression)
    if intrinsic:
        return json.loads(intrinsic["text"])
    if expression.startswith("$$."):
        return _path(expression[1:], context)
    return _path(expression, data)


def _path(expression: str, data: Any) -> Any:
    if expression == "$":
        return data
    matches = parse(expression).find(data)
    assert len(matches) == 1, f"{expression} matched {len(matches)} values"
    return matches[0].value


@dataclass
class Execution:
    """One execution's trace: each worker payload sent, the worker errors, the final output."""

    worker_payloads: list[dict[str, Any]] = field(default_factory=list)
    worker_errors: list[BaseException] = field(default_factory=list)
    output: Any = None


def run_execution(
    event: dict[str, Any], handlers: Mapping[str, Handler], context_factory: Callable[[], Any], **limits: int
) -> Execution:
    """Discover -> Distributed Map (ItemReader + ItemSelector per item) -> Finalize, as the file says."""
    definition = load_definition(**limits)
    states = definition["States"]
    execution = Execution()
    state = event
    name = definition["StartAt"]
    while name:
        spec = states[name]
        if spec["Type"] == "Task":
            payload = (
                select(spec["Parameters"]["Payload"], state) if "Payload" in spec["Parameters"] else None
            )
            if payload is None:
                payload = evaluate(spec["Parameters"]["Payload.$"], state, {})
            response = {"Payload": handlers[spec["Parameters"]["FunctionName"]](payload, context_factory())}
            output = select(spec["ResultSelector"], response) if "ResultSelector" in spec else response
            state = evaluate(spec.get("OutputPath", "$"), output, {})
        elif spec["Type"] == "Map":
            _run_map(spec, state, handlers, context_factory, execution)
        name = spec.get("Next")
    execution.output = state
    return execution


def _run_map(
    spec: dict[str, Any],
    state: Any,
    handlers: Mapping[str, Handler],
    context_factory: Callable[[], Any],
    execution: Execution,
) -> None:
    reader = spec["ItemReader"]
    assert reader["Resource"] == "arn:aws:states:::s3:getObject"
    location = select(reader["Parameters"], state)
    body = boto3.client("s3").get_object(Bucket=location["Bucket"], Key=location["Key"])["Body"].read()
    items = json.loads(body)
    processor = spec["ItemProcessor"]
    task = processor["States"][processor["StartAt"]]
    for index, item in enumerate(items):
        payload = select(spec["ItemSelector"], state, {"Map": {"Item": {"Value": item, "Index": index}}})
        execution.worker_payloads.append(payload)
        _call_with_retries(
            task, evaluate(task["Parameters"]["Payload.$"], payload, {}), handlers, context_factory, execution
        )
    # ResultPath null: the Map's own output is dropped and the state goes on unchanged.
    assert spec["ResultPath"] is None


def _call_with_retries(
    task: dict[str, Any],
    payload: Any,
    handlers: Mapping[str, Handler],
    context_factory: Callable[[], Any],
    execution: Execution,
) -> None:
    handler = handlers[task["Parameters"]["FunctionName"]]
    for attempt in range(1 + max(rule["MaxAttempts"] for rule in task["Retry"])):
        try:
            handler(payload, context_factory())
            return
        except Exception as error:
            rule = next((r for r in task["Retry"] if type(error).__name__ in r["ErrorEquals"]), None)
            if rule is None or attempt >= rule["MaxAttempts"]:
                # The item fails; the Map tolerates it (or its Catch goes on to Finalize).
                execution.worker_errors.append(error)
                return
