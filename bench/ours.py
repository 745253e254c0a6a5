"""iam-inventory's job as Lambda runs it, for the benchmark.

Run: python -m bench.ours --accounts FILE --out DIR [--run-id ID]; prints one JSON line. A second run
into the same --out (another run id) finds the first as its previous run, as a scheduled run does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from iam_inventory.config.events import RunRequest
from iam_inventory.entrypoints.bootstrap import bootstrap
from iam_inventory.models import AccountResult
from iam_inventory.pipeline.finalize import Outputs, run_summary
from iam_inventory.pipeline.job import run_job


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.ours")
    parser.add_argument("--accounts", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--run-id", default="bench")
    args = parser.parse_args()
    os.environ["ACCOUNT_IDS"] = ",".join(args.accounts.read_text().split())
    # A log line per account would measure the logger, not the scan.
    runtime = bootstrap(default_log_level="ERROR")
    scan_phase: dict[str, float] = {}

    def progress(_result: AccountResult, done: int, total: int) -> None:
        # ru_maxrss is the peak so far: read when the last account is stored, it is the scan phase's.
        if done == total:
            scan_phase["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    started = time.monotonic()
    # As the schedule runs it: each run becomes the baseline the next one compares with.
    outcome = run_job(
        RunRequest(source="schedule", run_id=args.run_id),
        runtime,
        lambda: datetime.now(UTC),
        "bench",
        Outputs(local_dir=args.out, progress=progress),
    )
    wall = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    summary = run_summary(outcome)
    entries = outcome.report["accounts"]
    accounts = len(entries)
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": usage.ru_utime + usage.ru_stime,
                "peak_rss_mb": usage.ru_maxrss / 1024,
                "scan_phase_peak_rss_mb": scan_phase.get("peak_rss_mb"),
                "workers": runtime.settings.account_pool(accounts, runtime.cpus),
                "statuses": {
                    status: count for status, count in summary["accounts"].items() if status != "expected"
                },
                "paths": dict(Counter(str(entry["collection_path"]) for entry in entries)),
                "users": summary["users"],
                "keys": summary["access_keys"],
                "findings": summary["findings"]["total"],
                "api_calls": summary["api_calls"],
                "retried_calls": summary["retried_calls"],
                "calls_by_account": {entry["account_id"]: entry["api_calls"] for entry in entries},
                # Calls that confirmed report-based findings live (part of api_calls; 0 when the run
                # generated every report), per account, for bench to print beside the calls.
                "verification_calls_by_account": {
                    entry["account_id"]: entry["verification_calls"] for entry in entries
                },
            }
        )
    )


if __name__ == "__main__":
    main()
