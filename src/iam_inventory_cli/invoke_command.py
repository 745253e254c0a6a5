"""`iam-inventory invoke`: a Lambda handler run with an event file, on AWS or a seeded simulator."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from iam_inventory.config.events import InvalidEvent
from iam_inventory.core.clock import utcnow
from iam_inventory_cli.checks import check_cli_log_level
from iam_inventory_cli.log_stream import logs_to
from iam_inventory_cli.tables import exit_code


@dataclass(frozen=True, slots=True)
class FakeLambdaContext:
    """Just enough of a LambdaContext for the handler outside Lambda."""

    function_name: str = "iam-inventory-local"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:iam-inventory-local"
    aws_request_id: str = ""
    remaining_ms: int = 900_000

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left (fixed: nothing counts down outside Lambda)."""
        return self.remaining_ms


def read_event(path: Path) -> Any:
    """The JSON event in `path`, or InvalidEvent naming the file and what is wrong with it."""
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidEvent(f"event file {path}: not UTF-8 text (byte {error.start})") from None
    except (OSError, json.JSONDecodeError) as error:
        raise InvalidEvent(f"event file {path}: {error}") from None


def command_invoke(args: argparse.Namespace, out: TextIO, err: TextIO | None = None) -> int:
    """`iam-inventory invoke [--simulator] EVENT`: the result on `out`, logs and EMF on `err`."""
    stream = err or sys.stderr
    event = read_event(args.event)
    level = check_cli_log_level(os.environ)
    with logs_to(stream, level), contextlib.redirect_stdout(stream), warnings.catch_warnings():
        # An empty metrics flush (a dry run) is by design, not something to warn a user about.
        warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
        if args.simulator:
            from iam_inventory_cli.simulated import simulated_estate
            from iam_inventory_sim.demo_remediation import environment

            with simulated_estate(utcnow()) as variables, environment(variables):
                summary = _invoke_handler(event)
        else:
            from iam_inventory.assume.preflight import check_hub_credentials
            from iam_inventory.core.observability import metrics
            from iam_inventory.entrypoints.bootstrap import container_runtime

            # The runtime the handler reuses: settings read and the session built once, as in a container.
            runtime = container_runtime(metrics=metrics)
            check_hub_credentials(runtime.factory, "the default credentials")
            summary = _invoke_handler(event)
    print(json.dumps(summary, indent=2), file=out)
    return exit_code(summary["accounts"])


def _invoke_handler(event: Any) -> dict[str, Any]:
    from iam_inventory.entrypoints.handlers import lambda_handler

    summary: dict[str, Any] = lambda_handler(event, FakeLambdaContext(aws_request_id=str(uuid.uuid4())))
    return summary
