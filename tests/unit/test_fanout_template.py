"""The fan-out wiring in template.yaml points at real handlers and at a Distributed Map."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from cfnlint.decode import decode_str

from tests.stepfunctions import DEFINITION, load_definition, select

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def resources() -> dict:
    template, matches = decode_str(TEMPLATE.read_text())
    assert not matches
    return template["Resources"]


def test_every_function_handler_exists_in_the_package():
    # Given the template's functions
    handlers = {
        name: resource["Properties"]["Handler"]
        for name, resource in resources().items()
        if resource["Type"] == "AWS::Serverless::Function"
    }

    # Then each handler is a callable of the package (a typo would only show at deploy time)
    assert handlers["FanoutWorkerFunction"] == "iam_inventory.entrypoints.handlers.worker_handler"
    for handler in handlers.values():
        module, _, function = handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), function)), handler


def test_fanout_is_a_distributed_map_with_tunable_concurrency_and_throttling_retries():
    # Given the fan-out state machine and its definition file, substituted as CloudFormation does
    machine = resources()["FanoutStateMachine"]
    properties = machine["Properties"]
    states = load_definition(max_concurrency=25, tolerated_failure_percentage=5)["States"]
    scan = states["ScanAccounts"]

    # Then the template points at the file, substituting every placeholder it uses
    assert machine["Type"] == "AWS::Serverless::StateMachine"
    assert machine["Condition"] == "IsFanout"
    assert properties["DefinitionUri"] == "statemachine/fanout.asl.json"
    placeholders = set(re.findall(r"\$\{(\w+)\}", DEFINITION.read_text()))
    assert placeholders == set(properties["DefinitionSubstitutions"])
    assert properties["DefinitionSubstitutions"]["MaxConcurrency"] == {"Ref": "FanoutMaxConcurrency"}
    assert properties["Role"] == {"Fn::GetAtt": ["FanoutStateMachineRole", "Arn"]}

    # And it maps over the item list in S3, in distributed mode, bounded by the numbers substituted
    discovered = select(states["Discover"]["ResultSelector"], {"Payload": {"run_id": "r"}})
    assert (discovered["max_concurrency"], discovered["tolerated_failure_percentage"]) == (25, 5)
    assert scan["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert scan["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"
    assert scan["MaxConcurrencyPath"] == "$.max_concurrency"
    assert scan["ToleratedFailurePercentagePath"] == "$.tolerated_failure_percentage"

    # And a worker that stays throttled is retried with jittered backoff, and finalize always runs
    retry = scan["ItemProcessor"]["States"]["ScanAccount"]["Retry"][0]
    assert "AccountThrottled" in retry["ErrorEquals"]
    assert (retry["BackoffRate"], retry["JitterStrategy"]) == (2, "FULL")
    assert scan["Next"] == "Finalize"
    assert scan["Catch"][0]["Next"] == "Finalize"
