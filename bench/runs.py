"""What one size runs: iam-inventory's first, steady-state and cached runs, then the two naive baselines.

The runs of iam-inventory go into one folder, each the next one's previous run, as the schedule's do:
- first: no previous run; every report is generated (STARTED) and every key listed;
- steady: the estate unchanged but for one rotated key in each of the first --changed accounts; every
  report generated anew (more than 4 hours on), so key ids come from the first run's scan;
- cached: right after (within 4 hours): IAM hands back the steady run's reports (COMPLETE), so keys are
  listed and report-based findings verified live.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
from pathlib import Path
from typing import Any

from bench.client import Responder, child_environment, run_child
from bench.estate import BenchAccount, Size, build_estate
from bench.profile import profiled_command
from bench.report import Measured

RUN_NAMES = {"first": "first run", "steady": "steady-state second run", "cached": "cached second run"}


def naive_calls(account: BenchAccount) -> int:
    """API calls the naive scan makes in one account: AssumeRole, ListUsers pages, users, keys."""
    return 1 + max(1, math.ceil(len(account.users) / 100)) + len(account.users) + account.keys


def measured(name: str, output: dict, stats: dict, **specific: Any) -> Measured:
    """One implementation's figures: its child's own measures plus the responder's counters."""
    return Measured(
        name=name,
        wall=output["wall"],
        cpu=output["cpu"],
        peak_rss_mb=output["peak_rss_mb"],
        requests=sum(stats["by_operation"].values()),
        throttled=sum(stats["throttled"].values()),
        by_operation=stats["by_operation"],
        by_account=stats["by_account"],
        users=output["users"],
        keys=output["keys"],
        **specific,
    )


def runs_for(size: Size, args: argparse.Namespace) -> list[str]:
    """The iam-inventory runs of a size, in order."""
    runs = ["first"]
    for kind in ("steady", "cached"):
        if size.label in getattr(args, f"{kind}_for").split(","):
            runs.append(kind)
    return runs


def our_run(
    kind: str, size: Size, responder: Responder, args: argparse.Namespace, workdir: Path, ids_file: Path
) -> Measured:
    """One iam-inventory run of `kind` into the size's folder, against the responder set up for it."""
    rotated = responder.reset(keep_reports=kind == "cached", rotate=args.changed if kind == "steady" else 0)
    arguments = ["--accounts", str(ids_file), "--out", str(workdir / size.label), "--run-id", f"bench-{kind}"]
    arguments += ["--evaluate-at", args.evaluate_at.isoformat()]
    command = [sys.executable, "-m", "bench.ours", *arguments]
    if args.profile:
        command = profiled_command(command, args.profile / f"{size.label}-{kind}")
    output = run_child(command, child_environment(responder.endpoint, args))
    stats = responder.stats()
    return measured(
        f"iam-inventory {RUN_NAMES[kind]} ({args.mode}, WORKERS={output['workers']})",
        output,
        stats,
        accounts_done=output["statuses"].get("scanned", 0),
        retried=output["retried_calls"],
        throttled_by_account=stats["throttled"],
        kind=kind,
        extra={
            "statuses": output["statuses"],
            "paths": output["paths"],
            "findings": output["findings"],
            "findings_digest": output["findings_digest"],
            "scan_phase_peak_rss_mb": output["scan_phase_peak_rss_mb"],
            "finalize_cpu": output["finalize_cpu"],
            "system_cpu": output["system_cpu"],
            "verification_calls_by_account": output["verification_calls_by_account"],
            "most_per_user": stats.get("most_per_user", {}),
            "rotated": rotated,
        },
    )


def bench_size(size: Size, args: argparse.Namespace, workdir: Path) -> dict[str, Measured]:
    """iam-inventory's runs of one size and, as asked, the naive baselines."""
    estate = build_estate(size)
    ids_file = workdir / f"accounts-{size.label}.txt"
    ids_file.write_text("\n".join(estate))
    responder = Responder(size, args.latency, args.rate)
    results: dict[str, Measured] = {}
    try:
        for kind in runs_for(size, args):
            results[f"ours-{kind}"] = our_run(kind, size, responder, args, workdir, ids_file)
        # The folder is no longer needed, and 10,000 accounts' reports fill a small /tmp.
        shutil.rmtree(workdir / size.label, ignore_errors=True)
        if size.label not in args.baselines_for.split(","):
            return results
        # (Rotated keys change no count: the estate's sizes extrapolate the baselines.)
        max_seconds = math.inf if args.naive_full else args.naive_max_seconds
        for key, threads in (("naive", 1), ("naive-threads", args.naive_threads)):
            responder.reset()
            command = [sys.executable, "-m", "bench.naive", "--accounts", str(ids_file)]
            command += ["--max-seconds", str(max_seconds), "--threads", str(threads)]
            output = run_child(command, child_environment(responder.endpoint, args))
            name = "naive sequential" if threads == 1 else f"naive, {threads} threads over accounts"
            naive = measured(name, output, responder.stats(), accounts_done=output["accounts_done"])
            results[key] = extrapolate(naive, estate) if naive.accounts_done < len(estate) else naive
        return results
    finally:
        responder.stop()


def extrapolate(naive: Measured, estate: dict[str, BenchAccount]) -> Measured:
    """Scale a partial naive run to the whole estate by API calls (its throughput is constant)."""
    total_calls = sum(naive_calls(account) for account in estate.values())
    factor = total_calls / max(1, naive.calls)
    return Measured(
        name=naive.name,
        wall=naive.wall * factor,
        cpu=naive.cpu * factor,
        peak_rss_mb=naive.peak_rss_mb,
        requests=total_calls + round(naive.throttled * factor),
        throttled=round(naive.throttled * factor),
        by_operation=naive.by_operation,
        by_account=naive.by_account,
        users=sum(len(account.users) for account in estate.values()),
        keys=sum(account.keys for account in estate.values()),
        accounts_done=naive.accounts_done,
        extrapolated_from=naive.accounts_done,
    )
