"""`iam-inventory`: run the job from a terminal, invoke the handler with an event, or run the demo."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from iam_inventory.config import ConfigError, Settings
from iam_inventory.discovery import DiscoveryError
from iam_inventory.events import InvalidEvent, RunRequest
from iam_inventory.models import AccountResult, AccountStatus, RunResult
from iam_inventory.report import build_report, render_findings_csv, render_inventory_csv

EXIT_OK = 0
EXIT_ACCOUNT_FAILED = 1
EXIT_BAD_INPUT = 2

_EXIT_CODES = """\
exit codes:
  0  every account was scanned (or deliberately skipped, e.g. a suspended account)
  1  the run completed but at least one account failed or was not scanned (see the table)
  2  bad input: invalid flags, configuration, event or report file; nothing was scanned
"""
_EXAMPLES = (
    """\
examples:
  iam-inventory demo                                   # whole job on the embedded simulator, files in ./out
  iam-inventory run --accounts 111111111111,222222222222 --out out/
  iam-inventory run --profile security-audit --organization --format csv > findings.csv
  iam-inventory report out/report.json --format html > report.html
  iam-inventory invoke events/manual.json              # the Lambda handler with that event, no Docker

"""
    + _EXIT_CODES
)
_RUN_EXAMPLES = (
    """\
examples:
  iam-inventory run --profile hub --accounts 111111111111 --out out/
  iam-inventory run --profile audit --organization --out out/ --format json
  iam-inventory run --accounts 111111111111,222222222222 --dry-run --format csv > findings.csv

A profile may assume a role itself (role_arn + source_profile, optional external_id and
mfa_serial in ~/.aws/config), exactly as with the AWS CLI. With --out, the previous run in that
directory is the baseline for "new" and "resolved" findings.

"""
    + _EXIT_CODES
)
_REPORT_EXAMPLES = """\
examples:
  iam-inventory report out/report.json                       # the summary table again
  iam-inventory report out/report.json --format csv          # findings CSV on stdout
  iam-inventory report out/report.json --format inventory-csv > inventory.csv
  iam-inventory report out/report.json --format html > report.html
  iam-inventory report out/report.json --out rendered/       # findings.csv, inventory.csv, index.html

exit codes:
  0  rendered
  2  the file is missing, not JSON, or not an iam-inventory report (schema 1.x)
"""


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


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command."""
    parser = argparse.ArgumentParser(
        prog="iam-inventory",
        description="Inventory IAM users and access keys across AWS accounts and report risky ones.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run",
        help="run the job against AWS (or AWS_ENDPOINT_URL)",
        description="Run the job with the hub credentials of --profile (or the default chain). "
        "Settings come from the environment (see README); flags override them. A progress bar is "
        "drawn on stderr while accounts are scanned (only when stderr is a terminal); a summary "
        "follows on stdout.",
        epilog=_RUN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--profile", help="AWS CLI profile for the hub credentials (role_arn/source_profile work)"
    )
    run.add_argument("--region", help="AWS region (sets AWS_REGION)")
    run.add_argument(
        "--accounts", help="comma-separated 12-digit account ids (overrides the configured source)"
    )
    run.add_argument("--organization", action="store_true", help="discover accounts with AWS Organizations")
    run.add_argument("--role-name", help="spoke role name (default IAMListRole)")
    run.add_argument("--bucket", help="also write the report to this S3 bucket (REPORT_BUCKET)")
    run.add_argument(
        "--out",
        type=Path,
        help="write report.json, findings.csv, inventory.csv, index.html and the JSONL files here",
    )
    run.add_argument("--dry-run", action="store_true", help="collect and evaluate, write nothing")
    run.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="stdout: summary table (default), JSON summary, or the findings CSV",
    )

    report = commands.add_parser(
        "report",
        help="re-render the table, CSVs or HTML page from a saved report.json",
        description="Read a saved report.json (schema 1.x) and render it again, without AWS. The HTML "
        "page uses history.json from the same directory for its trend chart when present.",
        epilog=_REPORT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("report", type=Path, help="path to a report.json, e.g. out/report.json")
    report.add_argument(
        "--format",
        choices=("table", "json", "csv", "inventory-csv", "html"),
        default="table",
        help="what to print on stdout (default: the summary table)",
    )
    report.add_argument("--out", type=Path, help="also write findings.csv, inventory.csv and index.html here")
    report.add_argument(
        "--console-role", help="role name for the HTML switch-role links (default: the spoke role)"
    )

    invoke = commands.add_parser(
        "invoke",
        help="call the Lambda handler with an event file (like `sam local invoke`, without Docker)",
        description="Run iam_inventory.handler.lambda_handler with the event and a fake context; "
        "print what it returns. Configuration comes from the environment, as in Lambda.",
        epilog="examples:\n  iam-inventory invoke events/dry-run.json\n"
        "  REPORT_BUCKET=my-bucket ACCOUNT_IDS=111111111111 iam-inventory invoke events/manual.json\n\n"
        + _EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    invoke.add_argument("event", type=Path, help="path to a JSON event, e.g. events/manual.json")

    demo = commands.add_parser(
        "demo",
        help="run the whole job on an embedded AWS simulator seeded with several accounts",
        description="Start moto on 127.0.0.1, seed an organization (nested OUs; one account whose role "
        "cannot be assumed, one suspended), discover it through AWS Organizations, run the same code path "
        "as the Lambda, change the estate, run again, write every output under --out and print both "
        "summaries with the new and resolved findings.",
        epilog="examples:\n  iam-inventory demo\n  iam-inventory demo --out /tmp/demo && "
        "xdg-open /tmp/demo/index.html\n\nexit codes:\n  0  the demo's findings matched the seeded "
        "estate\n  3  they did not (a bug)\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--out", type=Path, default=Path("out"), help="output directory (default ./out)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return command_run(args, sys.stdout)
        if args.command == "invoke":
            return command_invoke(args.event, sys.stdout)
        if args.command == "report":
            return command_report(args, sys.stdout)
        return command_demo(args.out, sys.stdout)
    except (ConfigError, InvalidEvent, DiscoveryError, InvalidReport) as error:
        print(f"iam-inventory: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


def command_run(args: argparse.Namespace, out: TextIO, err: TextIO | None = None) -> int:
    """`iam-inventory run`."""
    with logs_to(err or sys.stderr):
        return _run(args, out, err or sys.stderr)


@contextlib.contextmanager
def logs_to(stream: TextIO) -> Any:
    """Send the job's logs to `stream` (warnings only unless LOG_LEVEL says otherwise), then restore."""
    from iam_inventory.observability import logger

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
    from iam_inventory.aws import ClientFactory
    from iam_inventory.job import Outputs, run_job

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
        from iam_inventory.job import run_summary

        print(json.dumps(run_summary(result), indent=2), file=out)
    elif args.format == "csv":
        out.write(render_findings_csv(build_report(result)).decode())
    else:
        print_summary(result, out)
    return exit_code(result)


class InvalidReport(ValueError):
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
    from iam_inventory.outputs.html import render_html

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
    from iam_inventory.handler import lambda_handler

    try:
        event = json.loads(event_path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise InvalidEvent(f"event file {event_path}: {error}") from None
    summary = lambda_handler(event, FakeLambdaContext(aws_request_id=str(uuid.uuid4())))
    print(json.dumps(summary, indent=2), file=out)
    return EXIT_ACCOUNT_FAILED if summary["accounts"]["failed"] else EXIT_OK


def command_demo(out_dir: Path, out: TextIO) -> int:
    """`iam-inventory demo`."""
    from iam_inventory.demo import run_demo

    # The demo's summary is its stdout; the job's warnings (the unreachable account) go to stderr.
    with logs_to(sys.stderr):
        return run_demo(out_dir, out)


def exit_code(result: RunResult) -> int:
    """0 when every account was scanned or deliberately skipped, 1 when any failed."""
    failed = any(item.status in (AccountStatus.FAILED, AccountStatus.NOT_SCANNED) for item in result.accounts)
    return EXIT_ACCOUNT_FAILED if failed else EXIT_OK


def print_summary(result: RunResult, out: TextIO) -> None:
    """The summary table of a finished run, then where its files went."""
    out.write(render_summary_table(build_report(result)))
    for name, location in result.published.items():
        print(f"wrote {name}: {location}", file=out)


def render_summary_table(report: dict[str, Any]) -> str:
    """A per-account table, totals, changes since the last run and findings by rule, for humans."""
    summary = report["summary"]
    run = report["run"]
    lines = [f"\nRun {run['run_id']}  ({'dry run' if run['dry_run'] else 'published'})"]
    header = f"{'ACCOUNT':<14}{'NAME':<20}{'STATUS':<13}{'USERS':>6}{'KEYS':>6}{'FINDINGS':>10}  ERROR"
    lines += [header, "-" * len(header)]
    for account in report["accounts"]:
        lines.append(
            f"{account['account_id']:<14}{account['name'][:19]:<20}{account['status']:<13}"
            f"{account['users']:>6}{account['access_keys']:>6}{account['findings']:>10}  "
            f"{account['error_code'] or ''}"
        )
    accounts = summary["accounts"]
    lines.append(
        f"\nAccounts: {accounts['expected']} expected, {accounts['scanned']} scanned, "
        f"{accounts['failed']} failed, {accounts['skipped']} skipped, {accounts['not_scanned']} not scanned"
    )
    lines.append(
        f"Users: {summary['users']}  access keys: {summary['access_keys']} "
        f"({summary['active_access_keys']} active)  API calls: {summary['api_calls']}"
    )
    severities = ", ".join(f"{count} {name}" for name, count in summary["findings"]["by_severity"].items())
    lines.append(f"Findings: {summary['findings']['total']} ({severities})")
    changes = report.get("changes")
    if changes is not None:
        since = f"run {changes['previous_run_id']}" if changes["previous_run_id"] else "nothing (first run)"
        lines.append(f"Changes since {since}: {changes['new']} new, {changes['resolved']} resolved")
    lines.append(f"\nFindings by rule ({summary['findings']['total']} total):")
    lines += [f"  {rule_id:<28}{count:>5}" for rule_id, count in summary["findings"]["by_rule"].items()]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Any:
    """Set environment variables for the duration of a block, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
