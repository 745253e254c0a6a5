"""statemachine/fanout.asl.json deployed on moto's own Step Functions interpreter, in the simulator.

moto 5.2.5 ships the ASL interpreter LocalStack uses (moto/stepfunctions/parser). `running_interpreter`
turns it on through moto's server-mode config endpoint (POST /moto-api/config), the server-mode form of
`mock_aws(config={"stepfunctions": {"execute_state_machine": True}})`: the simulator is a moto server,
and mock_aws would also swap the process's credentials and intercept boto3 in front of the fault layer.
The functions and the state machine are created through the Lambda and Step Functions APIs, with the
template's handlers and DefinitionSubstitutions; executions are started, and their status, output,
history and Map Run read, through the Step Functions API.

What is patched, each in one place here:
- the Lambda invoke boundary (`LambdaShim.invoke` replaces moto's LambdaFunction.invoke): moto runs a
  function's code only in Docker, so the invocation the interpreter sends through the Lambda API is
  handed to the real handler the function names, in this process, with the payload the interpreter
  built. A raised error becomes the Lambda error the interpreter expects.
- the Retry wait (`RetryWaits` replaces the `time` module of moto's retrier_decl.py, whose only use is
  `time.sleep(interval_seconds)` at line 107): the file's back-off is real seconds (10 s doubling up to
  300 s); each wait is recorded instead of slept, so the suite stays fast and the waits can be checked.
- a gap, not a shortcut (`enforce_tolerated_failures`): moto evaluates ToleratedFailurePercentagePath
  and shows it in DescribeMapRun, but never fails the Map Run for it (parse/preprocessor.py line 1136
  logs "ToleratedFailurePercentagePath declarations currently have no effect on the program
  evaluation"; iteration/itemprocessor/distributed_item_processor_worker.py lines 84-87 count a failed
  item and go on). The substitute applies AWS's rule ("the maximum percentage of failed items before the
  Map Run fails", UpdateMapRun API reference) once every item has finished, by raising the error AWS
  raises, States.ExceedToleratedFailureThreshold, inside moto's Map Run, so that MapRunFailed, the Map's
  Catch and ResultPath are moto's own code. Unlike AWS, it does not stop the Map Run early: items still
  pending when the threshold is crossed run anyway.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import threading
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import boto3
import requests

from iam_inventory_cli.invoke_command import FakeLambdaContext
from tests.fanout_template import FunctionSpec, definition_text, functions, substitutions

ROLE_NAME = "iam-inventory-fanout-test"
MACHINE_NAME = "iam-inventory-fanout"
_TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
# Longer than any execution here takes; a hang fails the test instead of blocking the suite.
_EXECUTION_TIMEOUT_SECONDS = 120


@dataclass
class RetryWaits:
    """Stands in for the `time` module of moto's Retrier: each back-off is recorded, not slept."""

    seconds: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sleep(self, seconds: float) -> None:
        """The wait the interpreter computed (interval x backoff, capped, jittered)."""
        with self._lock:
            self.seconds.append(seconds)


@dataclass(frozen=True)
class Invocation:
    """One Lambda invocation the interpreter made: which function, with what, and how it ended."""

    function: str
    payload: Any
    error_type: str | None


@dataclass
class LambdaShim:
    """Runs the handler a function names, in this process, for each invocation the interpreter sends."""

    calls: list[Invocation] = field(default_factory=list)
    running: int = 0
    peak_running: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, function: Any, body: str | None, request_headers: Any, response_headers: Any) -> bytes:
        """moto's LambdaFunction.invoke, without Docker.

        A raised error becomes what the Python runtime returns for an unhandled exception: status 200,
        `X-Amz-Function-Error: Unhandled` and {errorMessage, errorType, requestId, stackTrace}; the
        interpreter names the Step Functions error after errorType, as Step Functions does. Not
        modelled: the function's own environment (the handlers read this process's, set by the test),
        its timeout (nothing stops the handler; the context reports the whole Timeout as remaining),
        cold starts, and Lambda's own throttling and concurrency limits.
        """
        module, _, name = function.handler.rpartition(".")
        handler: Callable[[Any, Any], Any] = getattr(importlib.import_module(module), name)
        payload = json.loads(body) if body else {}
        request_id = str(uuid.uuid4())
        context = FakeLambdaContext(
            function_name=function.function_name,
            memory_limit_in_mb=int(function.memory_size),
            invoked_function_arn=function.function_arn,
            aws_request_id=request_id,
            remaining_ms=int(function.timeout) * 1000,
        )
        self._started(function.function_name)
        try:
            result = handler(payload, context)
        except Exception as error:
            self._finished(Invocation(function.function_name, payload, type(error).__name__))
            response_headers["x-amz-function-error"] = "Unhandled"
            failure = {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "requestId": request_id,
                "stackTrace": traceback.format_list(traceback.extract_tb(error.__traceback__)),
            }
            return json.dumps(failure).encode()
        self._finished(Invocation(function.function_name, payload, None))
        return json.dumps(result).encode()

    def payloads(self, function_suffix: str) -> list[Any]:
        """The payloads sent to the function whose name ends with `function_suffix`, in call order."""
        with self._lock:
            return [call.payload for call in self.calls if call.function.endswith(function_suffix)]

    def _started(self, function: str) -> None:
        with self._lock:
            self.running += 1
            self.peak_running[function] = max(self.peak_running.get(function, 0), self.running)

    def _finished(self, invocation: Invocation) -> None:
        with self._lock:
            self.running -= 1
            self.calls.append(invocation)


def enforce_tolerated_failures(map_run: Callable[..., None]) -> Callable[..., None]:
    """moto's DistributedIterationComponent._map_run, then AWS's tolerated-failure rule (see above)."""
    from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    def checked(self: Any, env: Any, eval_input: Any) -> None:
        map_run(self, env=env, eval_input=eval_input)
        record = eval_input.map_run_record
        failed = record.item_counter.failed.get() + record.item_counter.timed_out.get()
        total = record.item_counter.total.get()
        if failed and failed * 100 > record.tolerated_failure_percentage * total:
            error = StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold)
            details = MapRunFailedEventDetails(
                error=error.error_name, cause="The specified tolerated failure threshold was exceeded"
            )
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=error,
                    event_type=HistoryEventType.MapRunFailed,
                    event_details=EventDetails(mapRunFailedEventDetails=details),
                )
            )

    return checked


@dataclass(frozen=True)
class Interpreter:
    """moto's interpreter, running, with what the patches observed."""

    waits: RetryWaits
    lambdas: LambdaShim


@contextmanager
def running_interpreter(endpoint: str) -> Iterator[Interpreter]:
    """Turn on moto's interpreter in the simulator at `endpoint`, with the patches above; off on exit."""
    from moto.awslambda.models import LambdaFunction
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        distributed_iteration_component as distributed,
    )

    interpreter = Interpreter(RetryWaits(), LambdaShim())
    config = f"{endpoint}/moto-api/config"
    component = distributed.DistributedIterationComponent
    with ExitStack() as stack:
        # The interpreter's own clients go to http://localhost:$MOTO_PORT (parser/asl/utils/boto_client.py).
        stack.enter_context(mock.patch.dict(os.environ, {"MOTO_PORT": endpoint.rsplit(":", 1)[1]}))
        shim = interpreter.lambdas
        stack.enter_context(
            mock.patch.object(LambdaFunction, "invoke", lambda fn, *args: shim.invoke(fn, *args))
        )
        stack.enter_context(mock.patch.object(retrier_decl, "time", interpreter.waits))
        stack.enter_context(
            mock.patch.object(component, "_map_run", enforce_tolerated_failures(component._map_run))
        )
        _set_config(config, enabled=True)
        stack.callback(_set_config, config, enabled=False)
        yield interpreter


def _set_config(url: str, enabled: bool) -> None:
    requests.post(
        url, json={"stepfunctions": {"execute_state_machine": enabled}}, timeout=10
    ).raise_for_status()


@dataclass(frozen=True)
class Execution:
    """One finished execution, as DescribeExecution and GetExecutionHistory return it."""

    arn: str
    status: str
    output: Any
    error: str | None
    cause: str | None
    history: list[dict[str, Any]]

    def events(self, kind: str) -> list[dict[str, Any]]:
        """The history events of one type (e.g. "MapRunFailed")."""
        return [event for event in self.history if event["type"] == kind]

    def map_run(self) -> dict[str, Any]:
        """DescribeMapRun of the execution's one Map Run."""
        (started,) = self.events("MapRunStarted")
        arn = started["mapRunStartedEventDetails"]["mapRunArn"]
        return boto3.client("stepfunctions").describe_map_run(mapRunArn=arn)


class ExecutionFailed(RuntimeError):
    """The execution ended FAILED: its error, its cause, and its history as text (for leak checks)."""

    def __init__(self, execution: Execution) -> None:
        super().__init__(f"{execution.error}: {execution.cause}")
        self.execution = execution
        self.history_text = json.dumps(execution.history, default=str)


@dataclass(frozen=True)
class FanoutMachine:
    """The deployed state machine: its ARN, its functions' ARNs and its substituted definition."""

    arn: str
    function_arns: dict[str, str]
    definition: str

    def run(self, event: Mapping[str, Any], name: str | None = None) -> Execution:
        """StartExecution with `event` as its input, wait until it has finished, and read it back."""
        from moto.stepfunctions.parser.utils import TMP_THREADS

        sfn = boto3.client("stepfunctions")
        first = len(TMP_THREADS)
        arn = sfn.start_execution(
            stateMachineArn=self.arn, name=name or str(uuid.uuid4()), input=json.dumps(event)
        )["executionArn"]
        _join(TMP_THREADS, first)
        described = sfn.describe_execution(executionArn=arn)
        assert described["status"] in _TERMINAL, described["status"]
        history: list[dict[str, Any]] = []
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
            history.extend(page["events"])
        return Execution(
            arn=arn,
            status=described["status"],
            output=json.loads(described["output"]) if "output" in described else None,
            error=described.get("error"),
            cause=described.get("cause"),
            history=history,
        )

    def run_to_output(self, event: Mapping[str, Any]) -> Any:
        """The output of a succeeded execution; ExecutionFailed when it failed."""
        execution = self.run(event)
        if execution.status != "SUCCEEDED":
            raise ExecutionFailed(execution)
        return execution.output


def _join(threads: list[threading.Thread], first: int) -> None:
    """Wait for the interpreter's threads started from index `first` on (the execution and its Map).

    moto runs an execution on daemon threads it lists in moto.stepfunctions.parser.utils.TMP_THREADS
    (backend/execution_worker.py ExecutionWorker.start, asl/component/program/program.py Program.eval);
    the execution's own thread is listed first, and it ends only once its status is final.
    """
    index = first
    while index < len(threads):
        thread = threads[index]
        thread.join(_EXECUTION_TIMEOUT_SECONDS)
        assert not thread.is_alive(), "the execution did not finish"
        index += 1


def _function_zip() -> bytes:
    # moto stores the package; the shim runs the handler the function names from this checkout instead.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README", "iam-inventory's handlers run in the test process (tests/integration)\n")
    return buffer.getvalue()


def _role_arn() -> str:
    iam = boto3.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    try:
        return iam.get_role(RoleName=ROLE_NAME)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        return iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def _function_arn(spec: FunctionSpec, role_arn: str) -> str:
    client = boto3.client("lambda")
    name = f"iam-inventory-{spec.resource}"
    try:
        return client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    except client.exceptions.ResourceNotFoundException:
        return client.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=role_arn,
            Handler=spec.handler,
            Code={"ZipFile": _function_zip()},
            MemorySize=spec.memory_mb,
            Timeout=spec.timeout_seconds,
        )["FunctionArn"]


def deploy(parameters: Mapping[str, str] | None = None) -> FanoutMachine:
    """The template's fan-out functions and state machine, created through the APIs (once per reset).

    `parameters` overrides template parameters (e.g. FanoutToleratedFailurePercentage) as a stack
    update would; the state machine's definition is then updated to the new substitutions.
    """
    role_arn = _role_arn()
    arns = {resource: _function_arn(spec, role_arn) for resource, spec in functions().items()}
    definition = definition_text(substitutions(arns, parameters))
    sfn = boto3.client("stepfunctions")
    existing = [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == MACHINE_NAME]
    if existing:
        arn = existing[0]["stateMachineArn"]
        sfn.update_state_machine(stateMachineArn=arn, definition=definition)
    else:
        arn = sfn.create_state_machine(
            name=MACHINE_NAME, definition=definition, roleArn=role_arn, type="STANDARD"
        )["stateMachineArn"]
    return FanoutMachine(arn, arns, definition)
