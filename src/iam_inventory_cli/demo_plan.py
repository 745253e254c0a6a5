"""The demo's plan step: the CLI's `plan` command run for one owner (the simulator package has no CLI)."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from iam_inventory.core.clock import utcnow
from iam_inventory_cli.remediation_commands import command_plan


def write_demo_plan(report: Path, owner: str, target: Path) -> str:
    """The demo's `plan --report REPORT --owner OWNER --out TARGET`, through the command itself."""
    args = argparse.Namespace(
        report=report, owner=owner, rule=None, wait_days=None, profile_format=None, out=target
    )
    printed = io.StringIO()
    command_plan(args, printed, utcnow())
    return printed.getvalue()
