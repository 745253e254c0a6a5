"""`iam-inventory exceptions check FILE` and `iam-inventory plan --report ... --out DIR`."""

from __future__ import annotations

import argparse
import json
import os
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from iam_inventory.config.exceptions_source import read_exceptions_file
from iam_inventory.config.settings import Settings
from iam_inventory.core.clock import utcnow
from iam_inventory.core.errors import IamInventoryError
from iam_inventory.evaluate.exceptions import ExceptionsFileError
from iam_inventory.evaluate.rules import RULE_IDS
from iam_inventory_cli.plan import build_plan
from iam_inventory_cli.plan_document import plan_document
from iam_inventory_cli.plan_script import render_plan_script
from iam_inventory_cli.report_command import load_report
from iam_inventory_cli.tables import EXIT_BAD_INPUT, EXIT_OK

REMEDIATION_COMMANDS = frozenset({"exceptions", "plan"})
_PLAN_EXAMPLES = """\
examples:
  iam-inventory plan --report out/report.json --owner team-payments --out plans/payments
  iam-inventory plan --report out/report.json --rule access_key_unused --wait-days 30 --out plans/unused
  iam-inventory plan --report out/report.json --profile-format 'audit-{account_id}' --out plans/all

Writes plan.json (for review) and plan.sh: `plan.sh deactivate` now, `plan.sh delete` after the waiting
period. Each step first reads the key's last use again and stops if it was used after the plan's data.

exit codes:
  0  plan written
  2  bad input: the report is missing or malformed, or a flag is invalid
"""


class InvalidPlanOption(IamInventoryError):
    """A `plan` flag is invalid."""


def add_remediation_commands(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
) -> tuple[argparse.ArgumentParser, ...]:
    """Register the `exceptions` and `plan` sub-commands; return the parsers that take options."""
    exceptions = commands.add_parser(
        "exceptions",
        help="work with the risk exceptions file",
        description="Validate an exceptions file offline (format: docs/remediation.md).",
    )
    actions = exceptions.add_subparsers(dest="exceptions_command", required=True)
    check = actions.add_parser(
        "check",
        help="validate an exceptions file without AWS",
        description="Check every entry of an exceptions file; print one line per problem.",
        epilog="exit codes:\n  0  valid\n  2  invalid: one line per problem on stderr\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("file", type=Path, help="path to the exceptions JSON file")
    check.add_argument(
        "--today", type=date.fromisoformat, help="validate as of this date, YYYY-MM-DD (default: today, UTC)"
    )

    plan = commands.add_parser(
        "plan",
        help="write a staged, guarded remediation plan (shell script + JSON) from a saved report",
        description="Plan the fixes for a saved report.json: nothing is changed in any account.",
        epilog=_PLAN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    plan.add_argument("--report", type=Path, required=True, help="path to a report.json")
    plan.add_argument("--owner", help="only findings of this owner")
    plan.add_argument("--rule", choices=RULE_IDS, help="only findings of this rule")
    plan.add_argument("--out", type=Path, required=True, help="directory for plan.sh and plan.json")
    plan.add_argument(
        "--wait-days",
        type=int,
        help="days between deactivating and deleting (default REMEDIATION_WAIT_DAYS, 14)",
    )
    plan.add_argument(
        "--profile-format", help="AWS CLI profile per account, e.g. 'audit-{account_id}' (default: none)"
    )
    return check, plan


def run_remediation_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run `exceptions check` or `plan`."""
    if args.command == "exceptions":
        return command_exceptions_check(args.file, args.today or utcnow().date(), out, err)
    return command_plan(args, out, utcnow())


def command_exceptions_check(path: Path, today: date, out: TextIO, err: TextIO) -> int:
    """Validate an exceptions file: 0 and a summary line, or 2 and one line per problem."""
    try:
        checked = read_exceptions_file(path, today)
    except ExceptionsFileError as error:
        for problem in error.problems:
            print(f"iam-inventory: {error.source}: {problem}", file=err)
        return EXIT_BAD_INPUT
    expired = sum(1 for item in checked.exceptions if item.expired(today))
    print(f"{path}: valid, {len(checked.exceptions)} exceptions ({expired} expired as of {today})", file=out)
    return EXIT_OK


def command_plan(args: argparse.Namespace, out: TextIO, now: datetime) -> int:
    """Write plan.json and plan.sh for the report's findings (filtered by --owner and --rule)."""
    settings = Settings.from_env(os.environ)
    wait_days = settings.remediation_wait_days if args.wait_days is None else args.wait_days
    if not 1 <= wait_days <= 365:
        raise InvalidPlanOption("--wait-days must be from 1 to 365")
    _check_profile_format(args.profile_format)
    report = load_report(args.report)
    plan = build_plan(
        report,
        now,
        wait_days,
        settings.owner_config,
        owner=args.owner,
        rule=args.rule,
        profile_format=args.profile_format,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "plan.json").write_text(json.dumps(plan_document(plan), indent=2) + "\n")
    script = args.out / "plan.sh"
    script.write_text(render_plan_script(plan))
    script.chmod(0o750)
    active = sum(1 for key in plan.keys if key.active)
    active_others = sum(1 for credential in plan.credentials if credential.active)
    print(
        f"wrote {script} and plan.json: {active} keys and {active_others} other credentials to deactivate, "
        f"{len(plan.keys)} keys and {len(plan.credentials)} other credentials to delete after "
        f"{wait_days} days, "
        f"{len(plan.manual)} manual steps",
        file=out,
    )
    return EXIT_OK


def _check_profile_format(profile_format: str | None) -> None:
    if profile_format is None:
        return
    try:
        rendered = profile_format.format(account_id="123456789012")
    except (KeyError, IndexError, ValueError):
        raise InvalidPlanOption("--profile-format may only use the placeholder {account_id}") from None
    if not rendered.strip():
        raise InvalidPlanOption("--profile-format must not be empty")
