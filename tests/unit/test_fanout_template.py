"""The fan-out wiring in template.yaml points at real handlers and at a Distributed Map."""

from __future__ import annotations

import importlib
from pathlib import Path

from cfnlint.decode import decode_str

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
    # Given the fan-out state machine
    machine = resources()["FanoutStateMachine"]
    states = machine["Properties"]["Definition"]["States"]
    scan = states["ScanAccounts"]

    # Then it maps over the account list in S3, in distributed mode, bounded by the parameters
    assert machine["Condition"] == "IsFanout"
    assert scan["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert scan["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"
    assert scan["MaxConcurrency"] == "${MaxConcurrency}"
    assert scan["ToleratedFailurePercentage"] == "${ToleratedFailurePercentage}"
    substitutions = machine["Properties"]["DefinitionSubstitutions"]
    assert substitutions["MaxConcurrency"] == {"Ref": "FanoutMaxConcurrency"}

    # And a worker that stays throttled is retried with jittered backoff, and finalize always runs
    retry = scan["ItemProcessor"]["States"]["ScanAccount"]["Retry"][0]
    assert "AccountThrottled" in retry["ErrorEquals"]
    assert (retry["BackoffRate"], retry["JitterStrategy"]) == (2, "FULL")
    assert scan["Next"] == "Finalize"
    assert scan["Catch"][0]["Next"] == "Finalize"
