"""iam-inventory itself, as the Lambda runs it (same job, settings from the environment), in a child process.

Run: python -m bench.ours --accounts FILE --out DIR; prints one JSON line with timings and the summary.
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
from iam_inventory.pipeline.finalize import Outputs
from iam_inventory.pipeline.job import run_job


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.ours")
    parser.add_argument("--accounts", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    os.environ["ACCOUNT_IDS"] = ",".join(args.accounts.read_text().split())
    # A log line per account would measure the logger, not the scan.
    runtime = bootstrap(default_log_level="ERROR")
    started = time.monotonic()
    result = run_job(
        RunRequest(run_id="bench"),
        runtime,
        lambda: datetime.now(UTC),
        "bench",
        Outputs(local_dir=args.out),
    )
    wall = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    inventories = [item.inventory for item in result.accounts if item.inventory is not None]
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": usage.ru_utime + usage.ru_stime,
                "peak_rss_mb": usage.ru_maxrss / 1024,
                "statuses": dict(Counter(item.status.value for item in result.accounts)),
                "paths": dict(Counter(str(item.collection_path) for item in result.accounts)),
                "users": sum(len(inventory.users) for inventory in inventories),
                "keys": sum(len(user.access_keys) for inventory in inventories for user in inventory.users),
                "findings": len(result.findings),
                "api_calls": sum(item.api_calls for item in result.accounts),
                "retried_calls": sum(item.retried_calls for item in result.accounts),
                "calls_by_account": {item.account.account_id: item.api_calls for item in result.accounts},
            }
        )
    )


if __name__ == "__main__":
    main()
