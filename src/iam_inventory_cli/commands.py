"""The CLI's commands: run, report, invoke and demo (each returns its exit code)."""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import os
import sys
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from iam_inventory.config.events import InvalidEvent, RunRequest
from iam_inventory.config.settings import ConfigError, Settings
from iam_inventory.core.clock import utcnow
from iam_inventory.core.errors import IamInventoryError
from iam_inventory.models import AccountResult
from iam_inventory.publish.document import render_findings_csv, render_inventory_csv
from iam_inventory.publish.schema import report_schema_errors
from iam_inventory_cli.checks import (
    UsageError,
    access_denied_hint,
    check_cli_log_level,
    check_out_dir,
    parse_accounts,
    summarise,
)
from iam_inventory_cli.tables import (
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
    stream = err or sys.stderr
    with logs_to(stream, check_cli_log_level(os.environ)):
        return _run(args, out, stream)


@contextlib.contextmanager
def logs_to(stream: TextIO, level: str = "WARNING") -> Iterator[None]:
    """Send the job's logs to `stream` at `level`, then restore."""
    from iam_inventory.core.observability import logger

    handler = logger.registered_handler
    previous_level = logger.log_level
    # stdout carries the table, JSON or CSV the user asked for, so logs must not land there.
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    logger.setLevel(level)
    try:
        yield
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]
        logger.setLevel(previous_level)


# Flags that override a setting, by the environment variable they set: errors name the flag.
_FLAG_VARIABLES = {"region": "AWS_REGION", "role_name": "ROLE_NAME", "bucket": "REPORT_BUCKET"}


def settings_from_flags(args: argparse.Namespace, environ: dict[str, str]) -> Settings:
    """Settings from the environment with the flags laid over; an error names the flag it came from."""
    overrides = {variable: getattr(args, flag) for flag, variable in _FLAG_VARIABLES.items()}
    overrides["ACCOUNT_SOURCE"] = "organizations" if args.organization else None
    environ.update({name: value for name, value in overrides.items() if value})
    try:
        return Settings.from_env(environ)
    except ConfigError as error:
        message = str(error)
        for flag, variable in _FLAG_VARIABLES.items():
            if getattr(args, flag):
                message = message.replace(f"environment variable {variable}", "--" + flag.replace("_", "-"))
        raise ConfigError(message) from None


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from iam_inventory.assume.preflight import check_hub_credentials, check_report_bucket, open_hub
    from iam_inventory.entrypoints.bootstrap import bootstrap
    from iam_inventory.pipeline.finalize import Outputs, run_summary
    from iam_inventory.pipeline.job import run_job
    from iam_inventory.pipeline.runtime import hub_pool_size

    accounts = parse_accounts(args.accounts) if args.accounts else None
    environ = dict(os.environ)
    settings = settings_from_flags(args, environ)
    if not args.dry_run:
        if args.out is None and not settings.report_bucket:
            raise UsageError("run: say where the report goes: --out DIR or --bucket BUCKET (or --dry-run)")
        if args.out is not None:
            check_out_dir(args.out)
    event: dict[str, Any] = {"source": "manual", "dry_run": bool(args.dry_run)}
    if args.baseline:
        event["baseline"] = True
    if accounts:
        event["accounts"] = accounts
    request = RunRequest.from_event(event)
    factory = open_hub(settings, args.profile, max_pool_connections=hub_pool_size(settings))
    runtime = bootstrap(environ, default_log_level="WARNING", factory=factory, settings=settings)
    # One early, clear stop instead of every account failing with the same credential error.
    check_hub_credentials(factory, f"--profile {args.profile}" if args.profile else "the default credentials")
    if settings.report_bucket and not args.dry_run:
        check_report_bucket(factory, settings.report_bucket, "--bucket" if args.bucket else "REPORT_BUCKET")
    bar = ProgressBar(err)
    findings_csv = io.BytesIO() if args.format == "csv" else None
    try:
        outputs = Outputs(
            local_dir=args.out,
            progress=bar,
            findings_csv=findings_csv,
            exceptions_file=getattr(args, "exceptions", None),
        )
        outcome = run_job(request, runtime, utcnow, str(uuid.uuid4()), outputs)
    finally:
        bar.close()
    summary = run_summary(outcome)
    if args.format == "json":
        print(json.dumps(summary, indent=2), file=out)
    elif findings_csv is not None:
        out.write(findings_csv.getvalue().decode())
    else:
        print_summary(outcome, out)
    hint = access_denied_hint(outcome.report["accounts"], settings)
    if hint:
        print(f"iam-inventory: {hint}", file=err)
    return exit_code(summary["accounts"])


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
        report = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidReport(f"report file {path}: not UTF-8 text (byte {error.start})") from None
    except (OSError, json.JSONDecodeError) as error:
        raise InvalidReport(f"report file {path}: {error}") from None
    required = ("schema_version", "run", "summary", "accounts", "inventory", "findings")
    if not isinstance(report, dict) or any(key not in report for key in required):
        raise InvalidReport(f"report file {path}: not an iam-inventory report (needs {', '.join(required)})")
    if not str(report["schema_version"]).startswith("1."):
        raise InvalidReport(
            f"report file {path}: schema_version {str(report['schema_version'])[:20]!r} is not supported "
            "(1.x only)"
        )
    problems = report_schema_errors(report)
    if problems:
        raise InvalidReport(
            f"report file {path}: does not match the report schema: {summarise(problems, shown=2)}"
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
    # Each file is rendered at most once, whether it goes to --out, to stdout, or to both.
    renderers: dict[str, Callable[[], bytes]] = {
        "findings.csv": functools.cache(lambda: render_findings_csv(report)),
        "inventory.csv": functools.cache(lambda: render_inventory_csv(report)),
        "index.html": functools.cache(lambda: render_html(report, history, args.console_role)),
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
            from iam_inventory.assume.preflight import check_hub_credentials, open_hub

            check_hub_credentials(open_hub(Settings.from_env(os.environ)), "the default credentials")
            summary = _invoke_handler(event)
    print(json.dumps(summary, indent=2), file=out)
    return exit_code(summary["accounts"])


def _invoke_handler(event: Any) -> dict[str, Any]:
    from iam_inventory.entrypoints.handlers import lambda_handler

    summary: dict[str, Any] = lambda_handler(event, FakeLambdaContext(aws_request_id=str(uuid.uuid4())))
    return summary


def command_demo(
    out_dir: Path, out: TextIO, write_plan: Callable[[Path, str, Path], str] | None = None
) -> int:
    """`iam-inventory demo`."""
    from iam_inventory_sim.demo import run_demo

    # The demo's summary is its stdout; the job's warnings (the unreachable account) go to stderr.
    with logs_to(sys.stderr, check_cli_log_level(os.environ)):
        return run_demo(out_dir, out, print_summary, write_plan=write_plan)
