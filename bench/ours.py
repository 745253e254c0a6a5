"""iam-inventory's job as Lambda runs it, for the benchmark.

Run: python -m bench.ours --accounts FILE --out DIR [--run-id ID]; prints one JSON line. A second run
into the same --out (another run id) finds the first as its previous run, as a scheduled run does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from iam_inventory.config.events import RunRequest
from iam_inventory.entrypoints.bootstrap import bootstrap
from iam_inventory.evaluate.rules import evaluate
from iam_inventory.models import AccountResult, Thresholds
from iam_inventory.models.codec import decode
from iam_inventory.models.scan import AccountScan
from iam_inventory.pipeline.finalize import Outputs
from iam_inventory.pipeline.job import run_job
from iam_inventory.pipeline.outcome import run_summary


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.ours")
    parser.add_argument("--accounts", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--run-id", default="bench")
    parser.add_argument(
        "--tracemalloc",
        type=Path,
        default=None,
        help="trace allocations; write the top-10 lines holding memory when the last account is stored "
        "(and their peak) and at the end to this file (slow: for the note, not for timing)",
    )
    parser.add_argument(
        "--evaluate-at",
        type=datetime.fromisoformat,
        default=None,
        help="the moment the findings digest evaluates the stored inventories at (the same for every run "
        "of a size, so keys do not age a day between two runs)",
    )
    args = parser.parse_args()
    os.environ["ACCOUNT_IDS"] = ",".join(args.accounts.read_text().split())
    # A log line per account would measure the logger, not the scan.
    if args.tracemalloc:
        tracemalloc.start()
    runtime = bootstrap(default_log_level="ERROR", local_dir=args.out)
    scan_phase: dict[str, float] = {}

    def progress(_result: AccountResult, done: int, total: int) -> None:
        # ru_maxrss is the peak so far: read when the last account is stored, it is the scan phase's.
        if done == total:
            scan_phase["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            # What finalize costs is what the process spends after the last account is stored.
            scan_phase["cpu"] = time.process_time()
            scan_phase["wall"] = time.monotonic()
            if args.tracemalloc:
                top_allocations(args.tracemalloc, "when the last account was stored")

    started = time.monotonic()
    # As the schedule runs it: each run becomes the baseline the next one compares with.
    outcome = run_job(
        RunRequest(source="schedule", run_id=args.run_id),
        runtime,
        lambda: datetime.now(UTC),
        "bench",
        Outputs(progress=progress),
    )
    ended = time.monotonic()
    if args.tracemalloc:
        top_allocations(args.tracemalloc, "at the end of finalize")
    wall = ended - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    finalize_cpu = time.process_time() - scan_phase["cpu"] if "cpu" in scan_phase else None
    summary = run_summary(outcome)
    entries = outcome.report["accounts"]
    accounts = len(entries)
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": usage.ru_utime + usage.ru_stime,
                # The kernel's share: socket calls, and the futex waits of threads handing the GIL on.
                "system_cpu": usage.ru_stime,
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
                "findings_digest": findings_digest(
                    args.out / outcome.folder,
                    [e["account_id"] for e in entries],
                    outcome.context.thresholds,
                    args.evaluate_at,
                ),
                "finalize_cpu": finalize_cpu,
                "finalize_wall": ended - scan_phase["wall"] if "wall" in scan_phase else None,
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


def top_allocations(path: Path, when: str) -> None:
    """Append the 10 source lines holding the most traced memory now, and the traced peak, to `path`."""
    current, peak = tracemalloc.get_traced_memory()
    top = tracemalloc.take_snapshot().statistics("lineno")[:10]
    lines = [f"## {when}: traced {current / 2**20:.1f} MiB now, peak {peak / 2**20:.1f} MiB"]
    lines += [f"{stat.size / 2**20:7.2f} MiB {stat.count:8d} blocks  {stat.traceback[0]}" for stat in top]
    with path.open("a") as out:
        out.write("\n".join(lines) + "\n")


def findings_digest(folder: Path, account_ids: list[str], thresholds: Thresholds, at: datetime | None) -> str:
    """A digest of the run's findings and failed accounts, from its stored scans (read after measuring).

    With `at`, each stored inventory is evaluated at that moment: two runs minutes apart on the same
    estate then compare equal, where a key's age in days may tick over between their starts. It leaves
    out what differs between equivalent runs: when the run read each fact (verified_live).
    """
    lines = []
    for account_id in account_ids:
        path = folder / "accounts" / f"{account_id}.json.gz"
        if not path.exists():
            lines.append(f"{account_id} not stored")
            continue
        scan = decode(AccountScan, path.read_bytes())
        lines.append(f"{account_id} {scan.result.status.value}")
        inventory = scan.result.inventory
        findings = scan.findings if at is None or inventory is None else evaluate(inventory, thresholds, at)
        lines += sorted(f"{found.finding_id} {found.rule_id} {found.measured_value}" for found in findings)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


if __name__ == "__main__":
    main()
