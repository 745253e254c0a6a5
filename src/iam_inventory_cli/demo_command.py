"""`iam-inventory demo`: the whole job on the embedded simulator."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from iam_inventory_cli.checks import check_cli_log_level
from iam_inventory_cli.log_stream import logs_to
from iam_inventory_cli.tables import print_summary


def command_demo(
    out_dir: Path, out: TextIO, write_plan: Callable[[Path, str, Path], str] | None = None
) -> int:
    """`iam-inventory demo`."""
    from iam_inventory_sim.demo import run_demo

    # The demo's summary is its stdout; the job's warnings (the unreachable account) go to stderr.
    with logs_to(sys.stderr, check_cli_log_level(os.environ)):
        return run_demo(out_dir, out, print_summary, write_plan=write_plan)
