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
from iam_inventory.models import AccountStatus, RunResult
from iam_inventory.report import build_summary

EXIT_OK = 0
EXIT_ACCOUNT_FAILED = 1
EXIT_BAD_INPUT = 2

_EXAMPLES = """\
examples:
  iam-inventory demo                                   # whole job on the embedded simulator, files in ./out
  iam-inventory run --accounts 111111111111,222222222222 --out out/
  iam-inventory run --profile security-audit --dry-run
  iam-inventory invoke events/manual.json              # the Lambda handler with that event, no Docker
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
        "Settings come from the environment (see README); flags override them. "
        "Exit code: 0 all accounts scanned, 1 some account failed, 2 bad input or configuration.",
        epilog="example:\n  iam-inventory run --profile hub --accounts 111111111111 --out out/",
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
    run.add_argument("--out", type=Path, help="write report.json and findings.csv into this directory")
    run.add_argument("--dry-run", action="store_true", help="collect and evaluate, write nothing")
    run.add_argument("--format", choices=("table", "json"), default="table", help="summary format on stdout")

    invoke = commands.add_parser(
        "invoke",
        help="call the Lambda handler with an event file (like `sam local invoke`, without Docker)",
        description="Run iam_inventory.handler.lambda_handler with the event and a fake context; "
        "print what it returns. Configuration comes from the environment, as in Lambda.",
        epilog="example:\n  iam-inventory invoke events/dry-run.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    invoke.add_argument("event", type=Path, help="path to a JSON event, e.g. events/manual.json")

    demo = commands.add_parser(
        "demo",
        help="run the whole job on an embedded AWS simulator seeded with several accounts",
        description="Start moto on 127.0.0.1, seed an organization (nested OUs; one account whose role "
        "cannot be assumed, one suspended), discover it through AWS Organizations, run the same code path "
        "as the Lambda, write the report under --out, print a summary.",
        epilog="example:\n  iam-inventory demo --out out/",
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
        return command_demo(args.out, sys.stdout)
    except (ConfigError, InvalidEvent, DiscoveryError) as error:
        print(f"iam-inventory: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


def command_run(args: argparse.Namespace, out: TextIO) -> int:
    """`iam-inventory run`."""
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
    result = run_job(request, settings, utcnow, str(uuid.uuid4()), Outputs(local_dir=args.out), factory)
    if args.format == "json":
        from iam_inventory.job import run_summary

        print(json.dumps(run_summary(result), indent=2), file=out)
    else:
        print_summary(result, out)
    return exit_code(result)


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

    return run_demo(out_dir, out)


def exit_code(result: RunResult) -> int:
    """0 when every account was scanned or deliberately skipped, 1 when any failed."""
    failed = any(item.status in (AccountStatus.FAILED, AccountStatus.NOT_SCANNED) for item in result.accounts)
    return EXIT_ACCOUNT_FAILED if failed else EXIT_OK


def print_summary(result: RunResult, out: TextIO) -> None:
    """A per-account table and findings by rule, for humans."""
    summary = build_summary(result)
    findings_by_account: dict[str, int] = {}
    for finding in result.findings:
        findings_by_account[finding.account_id] = findings_by_account.get(finding.account_id, 0) + 1
    print(
        f"\nRun {result.context.run_id}  ({'dry run' if result.context.dry_run else 'published'})", file=out
    )
    header = f"{'ACCOUNT':<14}{'NAME':<20}{'STATUS':<13}{'USERS':>6}{'KEYS':>6}{'FINDINGS':>10}  ERROR"
    print(header, file=out)
    print("-" * len(header), file=out)
    for item in result.accounts:
        inventory = item.inventory
        users = len(inventory.users) if inventory else 0
        keys = sum(len(user.access_keys) for user in inventory.users) if inventory else 0
        error = item.error_code or ""
        print(
            f"{item.account.account_id:<14}{item.account.name[:19]:<20}{item.status.value:<13}"
            f"{users:>6}{keys:>6}{findings_by_account.get(item.account.account_id, 0):>10}  {error}",
            file=out,
        )
    accounts = summary["accounts"]
    print(
        f"\nAccounts: {accounts['expected']} expected, {accounts['scanned']} scanned, "
        f"{accounts['failed']} failed, {accounts['skipped']} skipped, {accounts['not_scanned']} not scanned",
        file=out,
    )
    print(
        f"Users: {summary['users']}  access keys: {summary['access_keys']} "
        f"({summary['active_access_keys']} active)  API calls: {summary['api_calls']}",
        file=out,
    )
    print(f"\nFindings by rule ({summary['findings']['total']} total):", file=out)
    for rule_id, count in summary["findings"]["by_rule"].items():
        print(f"  {rule_id:<28}{count:>5}", file=out)
    for name, location in result.published.items():
        print(f"wrote {name}: {location}", file=out)


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
