"""`iam-inventory`: run the job from a terminal, invoke the handler with an event, or run the demo."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from iam_inventory.core.errors import IamInventoryError
from iam_inventory_cli.demo_command import command_demo
from iam_inventory_cli.demo_plan import write_demo_plan
from iam_inventory_cli.invoke_command import command_invoke
from iam_inventory_cli.remediation_commands import (
    REMEDIATION_COMMANDS,
    add_remediation_commands,
    run_remediation_command,
)
from iam_inventory_cli.report_command import command_report
from iam_inventory_cli.run_command import command_run
from iam_inventory_cli.tables import EXIT_BAD_INPUT

EXIT_UNEXPECTED = 3
EXIT_BROKEN_PIPE = 141  # what a shell reports for a process ended by SIGPIPE (128 + 13)
EXIT_INTERRUPTED = 130

_EXIT_CODES = """\
exit codes:
  0  every account was scanned (or deliberately skipped, e.g. a suspended account)
  1  the run completed but at least one account failed or was not scanned (see the table)
  2  bad input: invalid flags, configuration, event or report file, or no usable hub credentials,
     endpoint or report bucket; nothing was scanned
  3  an unexpected error (a bug): one line, or the traceback with --debug
"""
_EXAMPLES = (
    """\
examples:
  iam-inventory demo                                   # whole job on the embedded simulator, files in ./out
  iam-inventory run --accounts 111111111111,222222222222 --out out/
  iam-inventory run --profile security-audit --organization --format csv > findings.csv
  iam-inventory report out/report.json --format html > report.html
  iam-inventory invoke --simulator events/manual.json  # the Lambda handler on a simulated estate

"""
    + _EXIT_CODES
)
_RUN_EXAMPLES = (
    """\
examples:
  iam-inventory run --profile hub --accounts 111111111111 --out out/
  iam-inventory run --profile audit --organization --out out/ --format json
  iam-inventory run --accounts 111111111111,222222222222 --dry-run --format csv > findings.csv

environment (see docs/configuration.md for every variable):
  EXTERNAL_ID            the ExternalId the spoke trust policies require (CLI runs only)
  EXTERNAL_ID_PARAMETER  or the name of the SSM SecureString that holds it (as in Lambda)
  ACCOUNT_IDS, ROLE_NAME, REPORT_BUCKET, MAX_KEY_AGE_DAYS, LOG_LEVEL, ...

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
        "--exceptions",
        type=Path,
        metavar="FILE",
        help="risk exceptions file (docs/remediation.md); an invalid file stops the run before any scan",
    )
    run.add_argument(
        "--baseline",
        action="store_true",
        help="move latest.json and be the next run's comparison baseline, as a scheduled run does "
        "(not with --accounts)",
    )
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
        description="Run the single-mode Lambda handler with the event and a fake context. The result "
        "is one JSON document on stdout; logs and metrics (EMF) go to stderr. Configuration comes from "
        "the environment, as in Lambda; with --simulator, from a seeded estate on the embedded simulator.",
        epilog="examples:\n  iam-inventory invoke --simulator events/scheduled.json   # no AWS needed\n"
        "  REPORT_BUCKET=my-bucket ACCOUNT_IDS=111111111111 iam-inventory invoke events/manual.json\n\n"
        + _EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    invoke.add_argument("event", type=Path, help="path to a JSON event, e.g. events/manual.json")
    invoke.add_argument(
        "--simulator",
        action="store_true",
        help="run against the embedded simulator: three seeded accounts, the ExternalId in SSM, a bucket",
    )

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
    remediation = add_remediation_commands(commands)
    for command in (parser, run, report, invoke, demo, *remediation):
        command.add_argument(
            "--debug",
            action="store_true",
            default=False if command is parser else argparse.SUPPRESS,
            help="show the Python traceback of an error",
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except BrokenPipeError:
        # The reader went away (`... | head`): not an error of ours. Point stdout at /dev/null so the
        # interpreter's final flush does not fail again. https://docs.python.org/3/library/signal.html#note-on-sigpipe
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except IamInventoryError as error:
        if args.debug:
            traceback.print_exc()
        print(f"iam-inventory: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("iam-inventory: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        if args.debug:
            traceback.print_exc()
        print(
            f"iam-inventory: unexpected error {type(error).__name__} (a bug: run again with --debug "
            "for the traceback)",
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        return command_run(args, sys.stdout)
    if args.command == "invoke":
        return command_invoke(args, sys.stdout)
    if args.command == "report":
        return command_report(args, sys.stdout)
    if args.command in REMEDIATION_COMMANDS:
        return run_remediation_command(args, sys.stdout, sys.stderr)
    return command_demo(args.out, sys.stdout, write_demo_plan)
