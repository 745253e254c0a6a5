"""`make bench`: what users run, in one invocation, against two naive baselines on the same estate.

For each size, a responder (bench/responder.py) serves a generated estate on loopback with per-request
latency and per-account IAM throttling; each run goes in a child process of its own (so CPU and peak
RSS are its alone), and the responder's counters say what it asked.

iam-inventory runs as the schedule does, each run into the same folder (bench/runs.py): a first run;
for the sizes in --steady-for a steady-state second run (every report generated anew, the estate
unchanged but for --changed rotated keys); for the sizes in --cached-for a cached second run (within
4 hours: IAM hands back the previous reports). For each run: calls per account, CPU per request, peak
RSS, the bound set by the largest account, its call budget, and its ratios against the baselines.

The baselines are the tutorial loop run sequentially, and the same loop with an 8-thread pool over
accounts. The naive scan needs roughly (2 + users + keys) x latency per account, one after another.
Unless --naive-full is given it runs for --naive-max-seconds, then its wall and CPU time are
extrapolated by API calls (it is strictly sequential, so time grows linearly with calls); the output
says when a figure is extrapolated.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.estate import Size, build_estate
from bench.profile import summarize
from bench.report import describe, summary_table
from bench.runs import bench_size

DEFAULT_SIZES = "300,1000x100,10000x6"


def parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--sizes", default=DEFAULT_SIZES, help=f"comma-separated: N or NxUSERS (default {DEFAULT_SIZES})")
    add("--steady-for", default="300,10000x6", help="sizes with a steady-state second run (300,10000x6)")
    add("--cached-for", default="300,1000x100", help="sizes with a cached second run (300,1000x100)")
    add("--changed", type=int, default=10, help="accounts with a rotated key before the steady run (10)")
    add("--baselines-for", default="300,1000x100,10000x6", help="sizes the naive baselines run on (all)")
    add("--latency", type=float, default=0.05, help="seconds added to every request (0.05)")
    add("--rate", type=float, default=20.0, help="IAM requests/s per account before Throttling (20)")
    add("--workers", type=int, default=None, help="iam-inventory WORKERS (default: sized)")
    add("--account-concurrency", type=int, default=None, help="iam-inventory ACCOUNT_CONCURRENCY (default 4)")
    add("--mode", choices=("auto", "api"), default="auto", help="iam-inventory COLLECTION_MODE")
    add("--naive-threads", type=int, default=8, help="threads of the second baseline (8)")
    add("--naive-max-seconds", type=float, default=20.0, help="cap on each naive run per size (20)")
    add("--naive-full", action="store_true", help="run the naive scans to the end (slow)")
    add(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="sample each iam-inventory run with py-spy (all threads, under the GIL) into DIR",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    args = parser().parse_args(argv)
    # Every run's findings digest evaluates its stored inventories at this one moment (bench/ours.py).
    args.evaluate_at = datetime.now(UTC)
    sizes = [Size.parse(text) for text in args.sizes.split(",") if text.strip()]
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="iam-inventory-bench-") as workdir:
        for size in sizes:
            estate = build_estate(size)
            results = bench_size(size, args, Path(workdir))
            print(describe(size, estate, results, args), flush=True)
            if args.profile:
                for measured in results.values():
                    if measured.kind:
                        print(summarize(args.profile / f"{size.label}-{measured.kind}"), flush=True)
            print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n", flush=True)
            rows.append((size, estate, results))
    print(summary_table(rows, args.rate))


if __name__ == "__main__":
    main()
