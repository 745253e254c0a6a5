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
    """One execution against the handlers: each worker payload sent, the worker errors, the output."""

    handlers: Mapping[str, Handler]
    context_factory: Callable[[], Any]
    worker_payloads: list[dict[str, Any]] = field(default_factory=list)
    worker_errors: list[BaseException] = field(default_factory=list)
    output: Any = None

    def call(self, function: str, payload: Any) -> Any:
        """Invoke the function the ARN placeholder names, with a fresh Lambda context."""
        return self.handlers[function](payload, self.context_factory())

    def run_map(self, spec: dict[str, Any], state: Any) -> None:
        """The Distributed Map: ItemReader, then per item the ItemSelector and the task with its Retry."""
        reader = spec["ItemReader"]
        assert reader["Resource"] == "arn:aws:states:::s3:getObject"
        location = select(reader["Parameters"], state)
        body = boto3.client("s3").get_object(Bucket=location["Bucket"], Key=location["Key"])["Body"].read()
        processor = spec["ItemProcessor"]
        task = processor["States"][processor["StartAt"]]
        for index, item in enumerate(json.loads(body)):
            payload = select(spec["ItemSelector"], state, {"Map": {"Item": {"Value": item, "Index": index}}})
            self.worker_payloads.append(payload)
            self.call_with_retries(task, evaluate(task["Parameters"]["Payload.$"], payload, {}))
        # ResultPath null: the Map's own output is dropped and the state goes on unchanged.
        assert spec["ResultPath"] is None

    def call_with_retries(self, task: dict[str, Any], payload: Any) -> None:
        """Call the task, retried as its Retry rules say (without the waits)."""
        for attempt in range(1 + max(rule["MaxAttempts"] for rule in task["Retry"])):
            try:
                self.call(task["Parameters"]["FunctionName"], payload)
                return
            except Exception as error:
                rule = next((r for r in task["Retry"] if type(error).__name__ in r["ErrorEquals"]), None)
                if rule is None or attempt >= rule["MaxAttempts"]:
                    # The item fails; the Map tolerates it (or its Catch goes on to Finalize).
                    self.worker_errors.append(error)
                    return


def run_execution(
    event: dict[str, Any], handlers: Mapping[str, Handler], context_factory: Callable[[], Any], **limits: int
) -> Execution:
    """Discover -> Distributed Map (ItemReader + ItemSelector per item) -> Finalize, as the file says."""
    definition = load_definition(**limits)
    execution = Execution(handlers, context_factory)
    state: Any = event
    name = definition["StartAt"]
    while name:
        spec = definition["States"][name]
        if spec["Type"] == "Task":
            parameters = spec["Parameters"]
            if "Payload" in parameters:
                payload = select(parameters["Payload"], state)
            else:
                payload = evaluate(parameters["Payload.$"], state, {})
            response = {"Payload": execution.call(parameters["FunctionName"], payload)}
            output = select(spec["ResultSelector"], response) if "ResultSelector" in spec else response
            state = evaluate(spec.get("OutputPath", "$"), output, {})
        elif spec["Type"] == "Map":
            execution.run_map(spec, state)
        name = spec.get("Next")
    execution.output = state
    return execution
