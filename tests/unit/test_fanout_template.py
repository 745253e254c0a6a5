"""The fan-out wiring in template.yaml points at real handlers and at a Distributed Map."""

from __future__ import annotations

import importlib
import json

from cfnlint.decode import decode_str

from tests.cfn_template import HUB_TEMPLATE
from tests.fanout_template import (
    definition_text,
    functions,
    parameter_defaults,
    placeholders,
    substitution_sources,
    substitutions,
)


def resources() -> dict:
    template, matches = decode_str(HUB_TEMPLATE.read_text())
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


def test_the_template_substitutes_exactly_the_placeholders_of_the_definition_file():
    # Given the state machine resource and its definition file
    machine = resources()["FanoutStateMachine"]
    properties = machine["Properties"]
    assert machine["Type"] == "AWS::Serverless::StateMachine"
    assert machine["Condition"] == "IsFanout"
    assert properties["DefinitionUri"] == "statemachine/fanout.asl.json"
    assert properties["Role"] == {"Fn::GetAtt": ["FanoutStateMachineRole", "Arn"]}

    # Then every ${Name} in the file is a DefinitionSubstitution, and nothing else is: the integration
    # tests deploy the file with these very substitutions (tests/fanout_template.py)
    assert placeholders() == set(substitution_sources())
    assert substitution_sources()["MaxConcurrency"] == {"Ref": "FanoutMaxConcurrency"}
    assert substitution_sources()["ToleratedFailurePercentage"] == {"Ref": "FanoutToleratedFailurePercentage"}
    assert set(functions()) == {"FanoutDiscoverFunction", "FanoutWorkerFunction", "FanoutFinalizeFunction"}
    # And the defaults the template ships are the ones docs/fanout.md sizes
    defaults = parameter_defaults()
    assert (defaults["FanoutMaxConcurrency"], defaults["FanoutToleratedFailurePercentage"]) == ("100", "5")


def test_fanout_is_a_distributed_map_over_the_item_list_with_throttling_retries_and_a_catch():
    # Given the definition, substituted as CloudFormation does
    arns = {name: f"arn:aws:lambda:us-east-1:123456789012:function:{name}" for name in functions()}
    states = json.loads(definition_text(substitutions(arns)))["States"]
    scan = states["ScanAccounts"]

    # Then it maps over the item list in S3, in distributed mode, bounded by the substituted numbers
    assert scan["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert scan["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"
    assert scan["MaxConcurrencyPath"] == "$.max_concurrency"
    assert scan["ToleratedFailurePercentagePath"] == "$.tolerated_failure_percentage"
    selector = states["Discover"]["ResultSelector"]
    assert selector["max_concurrency.$"] == "States.StringToJson('100')"
    assert selector["tolerated_failure_percentage.$"] == "States.StringToJson('5')"

    # And a worker that stays throttled is retried with jittered backoff, and finalize always runs,
    # told when the Map failed
    retry = scan["ItemProcessor"]["States"]["ScanAccount"]["Retry"][0]
    assert "AccountThrottled" in retry["ErrorEquals"]
    assert (retry["BackoffRate"], retry["JitterStrategy"]) == (2, "FULL")
    assert scan["Next"] == "Finalize"
    assert scan["Catch"][0]["Next"] == "Finalize"
    assert scan["Catch"][0]["ResultPath"] == "$.map_error"
    assert states["Finalize"]["Parameters"]["Payload"]["map_error.$"] == "$.map_error"
