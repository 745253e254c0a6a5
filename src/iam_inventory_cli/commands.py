"""The CLI's commands: run, report, invoke and demo (each returns its exit code)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from iam_inventory.config.events import InvalidEvent, RunRequest
from iam_inventory.config.settings import Settings
from iam_inventory.core.clock import utcnow
from iam_inventory.core.errors import IamInventoryError
from iam_inventory.models import AccountResult
from iam_inventory.publish.document import build_report, render_findings_csv, render_inventory_csv
from iam_inventory_cli.tables import (
    EXIT_ACCOUNT_FAILED,
    EXIT_OK,
    exit_code,
    print_summary,
    render_summary_table,
)


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


def command_run(args: argparse.Namespace, out: TextIO, err: TextIO | None = None) -> int:
    """`iam-inventory run`."""
    with logs_to(err or sys.stderr):
        return _run(args, out, err or sys.stderr)


@contextlib.contextmanager
def logs_to(stream: TextIO) -> Any:
    """Send the job's logs to `stream` (warnings only unless LOG_LEVEL says otherwise), then restore."""
    from iam_inventory.core.observability import logger

    handler = logger.registered_handler
    level = logger.log_level
    # stdout carries the table, JSON or CSV the user asked for, so logs must not land there.
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    logger.setLevel(os.environ.get("POWERTOOLS_LOG_LEVEL") or os.environ.get("LOG_LEVEL") or "WARNING")
    try:
        yield
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]
        logger.setLevel(level)


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from iam_inventory.assume.clients import ClientFactory
    from iam_inventory.pipeline.finalize import Outputs
    from iam_inventory.pipeline.job import run_job

    environ = dict(os.environ)
    overrides = {
        "AWS_REGION": args.region,
        "ROLE_NAME": args.role_name,
        "REPORT_BUCKET": args.bucket,
        "ACCOUNT_SOURCE": "organizations" if args.organization else None,
    }
    environ.update({name: value for name, value in overrides.items() if value})
    settings = Settings.from_env(environ)
    event: dict[str, Any] = {"source": "manual", "dry_run": bool(args.dry_run)}
    if args.baseline:
        event["baseline"] = True
    if args.accounts:
        event["accounts"] = [part.strip() for part in args.accounts.split(",") if part.strip()]
    request = RunRequest.from_event(event)
    factory = ClientFactory(settings, max_pool_connections=settings.workers, profile=args.profile)
    bar = ProgressBar(err)
    try:
        result = run_job(
            request,
            settings,
            utcnow,
            str(uuid.uuid4()),
            Outputs(local_dir=args.out, progress=bar),
            factory,
        )
    finally:
        bar.close()
    if args.format == "json":
        from iam_inventory.pipeline.finalize import run_summary

        print(json.dumps(run_summary(result), indent=2), file=out)
    elif args.format == "csv":
        out.write(render_findings_csv(build_report(result)).decode())
    else:
        print_summary(result, out)
    return exit_code(result)


class InvalidReport(IamInventoryError, ValueError):
    """A file given to `report` is not a readable iam-inventory report."""


class ProgressBar:
    """A tqdm bar on stderr, created at the first finished account and drawn only on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._bar: Any = None

    def __call__(self, result: AccountResult, done: int, total: int) -> None:
        """Advance by one finished account."""
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total,
                file=self._stream,
                unit="account",
                desc="Scanning",
                disable=not self._stream.isatty(),
                leave=False,
                dynamic_ncols=True,
                # Each update is a whole account (seconds of work): draw every one, not every 0.1 s.
                mininterval=0,
            )
        self._bar.set_postfix_str(f"{result.account.account_id} {result.status.value}", refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        """Remove the bar before the summary is printed."""
        if self._bar is not None:
            self._bar.close()


def load_report(path: Path) -> dict[str, Any]:
    """A saved report.json, checked to be a 1.x iam-inventory report."""
    try:
        report = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidReport(f"report file {path}: {error}") from None
    required = ("schema_version", "run", "summary", "accounts", "inventory", "findings")
    if not isinstance(report, dict) or any(key not in report for key in required):
        raise InvalidReport(f"report file {path}: not an iam-inventory report (needs {', '.join(required)})")
    if not str(report["schema_version"]).startswith("1."):
        raise InvalidReport(
            f"report file {path}: schema_version {report['schema_version']!r} is not supported (1.x only)"
        )
    return report


def command_report(args: argparse.Namespace, out: TextIO) -> int:
    """`iam-inventory report REPORT`."""
    from iam_inventory.publish.html import render_html

    report = load_report(args.report)
    history_path = args.report.parent / "history.json"
    history: list[dict[str, Any]] = []
    if history_path.is_file():
        with contextlib.suppress(json.JSONDecodeError, AttributeError):
            history = list(json.loads(history_path.read_text()).get("runs", []))
    renderers = {
        "findings.csv": lambda: render_findings_csv(report),
        "inventory.csv": lambda: render_inventory_csv(report),
        "index.html": lambda: render_html(report, history, args.console_role),
    }
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, render in renderers.items():
            (args.out / name).write_bytes(render())
    if args.format == "json":
        print(json.dumps(report, indent=2, ensure_ascii=False), file=out)
    elif args.format == "csv":
        out.write(renderers["findings.csv"]().decode())
    elif args.format == "inventory-csv":
        out.write(renderers["inventory.csv"]().decode())
    elif args.format == "html":
        out.write(renderers["index.html"]().decode())
    else:
        out.write(render_summary_table(report))
        if args.out is not None:
            for name in renderers:
                print(f"wrote {args.out / name}", file=out)
    return EXIT_OK


def command_invoke(event_path: Path, out: TextIO) -> int:
    """`iam-inventory invoke EVENT`."""
    from iam_inventory.entrypoints.handlers import lambda_handler

    try:
        event = json.loads(event_path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise InvalidEvent(f"event file {event_path}: {error}") from None
    summary = lambda_handler(event, FakeLambdaContext(aws_request_id=str(uuid.uuid4())))
    print(json.dumps(summary, indent=2), file=out)
    return EXIT_ACCOUNT_FAILED if summary["accounts"]["failed"] else EXIT_OK


def command_demo(out_dir: Path, out: TextIO) -> int:
    """`iam-inventory demo`."""
    from iam_inventory_sim.demo import run_demo

    # The demo's summary is its stdout; the job's warnings (the unreachable account) go to stderr.
    with logs_to(sys.stderr):
        return run_demo(out_dir, out, print_summary)
