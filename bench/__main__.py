"""`make bench`: iam-inventory at its defaults against two naive baselines, same estate, same invocation.

For each size, a responder (bench/responder.py) serves a generated estate on loopback with per-request
latency and per-account IAM throttling; both implementations run against it in their own child process
(so CPU and peak RSS are theirs alone), and the responder's counters say what each one asked.

The baselines are the tutorial loop run sequentially, and the same loop with an 8-thread pool over
accounts. For the sizes in --second-run-for, iam-inventory runs twice into the same folder and the
second run (a previous run present, as on every scheduled run after the first) is the one measured.

The naive scan needs roughly (2 + users + keys) x latency per account, one after another: minutes per
hundred accounts. Unless --naive-full is given it runs for --naive-max-seconds, then its wall and CPU
time are extrapolated by API calls (it is strictly sequential, so time grows linearly with calls);
the output says when a figure is extrapolated.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from bench.estate import BenchAccount, Size, build_estate
from bench.report import Measured, describe, summary_table

DEFAULT_SIZES = "200,1000x100"


class Responder:
    """A responder child process for one size."""

    def __init__(self, size: Size, latency: float, rate: float) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.responder",
                "--size",
                size.label,
                "--latency",
                str(latency),
                "--rate",
                str(rate),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def _call(self, path: str, method: str = "GET") -> dict:
        request = urllib.request.Request(
            f"{self.endpoint}{path}", method=method, data=b"" if method == "POST" else None
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def stats(self) -> dict:
        """Counters since the last reset."""
        return self._call("/__stats")

    def reset(self) -> None:
        """Clear counters, throttling state and reports."""
        self._call("/__reset", "POST")

    def stop(self) -> None:
        """Stop the child."""
        self.process.terminate()
        self.process.wait(timeout=10)


def child_environment(endpoint: str, args: argparse.Namespace) -> dict[str, str]:
    """Environment for a child: AWS pointed at the responder, iam-inventory settings from the options."""
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "POWERTOOLS_"))
    }
    return (
        environment
        | {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "NO_PROXY": "127.0.0.1",
            "POWERTOOLS_SERVICE_NAME": "iam-inventory",
            "POWERTOOLS_METRICS_NAMESPACE": "IAMInventoryBench",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "COLLECTION_MODE": args.mode,
            # Tags come with GetAccountAuthorizationDetails' user pages, so the budget holds with them on.
            "USER_TAG_KEYS": "owner,team",
        }
        | {
            # Unset: the defaults, as deployed (WORKERS sized to the estate and the CPUs).
            name: str(value)
            for name, value in (("WORKERS", args.workers), ("ACCOUNT_CONCURRENCY", args.account_concurrency))
            if value is not None
        }
    )


def run_child(module: str, arguments: list[str], environment: dict[str, str]) -> dict:
    """Run `python -m module` and read its JSON line."""
    completed = subprocess.run(
        [sys.executable, "-m", module, *arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"{module} failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def naive_calls(account: BenchAccount) -> int:
    """API calls the naive scan makes in one account: AssumeRole, ListUsers pages, users, keys."""
    return 1 + max(1, math.ceil(len(account.users) / 100)) + len(account.users) + account.keys


def measure(
    name: str, responder: Responder, module: str, arguments: list[str], environment: dict[str, str]
) -> tuple[dict, dict]:
    """Run one implementation against a freshly reset responder; (its output, the responder's counters)."""
    responder.reset()
    output = run_child(module, arguments, environment)
    return output, responder.stats()


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


def bench_size(size: Size, args: argparse.Namespace, workdir: Path) -> dict[str, Measured]:
    """iam-inventory (and, as asked, its second run and the naive baselines) on one size."""
    estate = build_estate(size)
    ids_file = workdir / f"accounts-{size.label}.txt"
    ids_file.write_text("\n".join(estate))
    responder = Responder(size, args.latency, args.rate)
    results: dict[str, Measured] = {}
    try:
        environment = child_environment(responder.endpoint, args)
        runs = ["bench", "bench-2"] if size.label in args.second_run_for.split(",") else ["bench"]
        for run_id in runs:
            output, stats = measure(
                "ours",
                responder,
                "bench.ours",
                ["--accounts", str(ids_file), "--out", str(workdir / size.label), "--run-id", run_id],
                environment,
            )
            results["ours" if run_id == "bench" else "ours-second"] = measured(
                f"iam-inventory ({args.mode}, WORKERS={output['workers']})"
                + (", second run" if run_id != "bench" else ""),
                output,
                stats,
                accounts_done=output["statuses"].get("scanned", 0),
                retried=output["retried_calls"],
                throttled_by_account=stats["throttled"],
                extra={
                    "statuses": output["statuses"],
                    "paths": output["paths"],
                    "findings": output["findings"],
                    "scan_phase_peak_rss_mb": output["scan_phase_peak_rss_mb"],
                    "verification_calls_by_account": output["verification_calls_by_account"],
                },
            )
        if size.label not in args.baselines_for.split(","):
            return results
        max_seconds = math.inf if args.naive_full else args.naive_max_seconds
        for key, threads in (("naive", 1), ("naive-threads", args.naive_threads)):
            output, stats = measure(
                key,
                responder,
                "bench.naive",
                ["--accounts", str(ids_file), "--max-seconds", str(max_seconds), "--threads", str(threads)],
                environment,
            )
            name = "naive sequential" if threads == 1 else f"naive, {threads} threads over accounts"
            naive = measured(name, output, stats, accounts_done=output["accounts_done"])
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


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default=DEFAULT_SIZES, help=f"comma-separated: N or NxUSERS (default {DEFAULT_SIZES})"
    )
    parser.add_argument("--baselines-for", default="200", help="sizes the naive baselines run on (200)")
    parser.add_argument(
        "--second-run-for", default="1000x100", help="sizes whose second run is measured (1000x100)"
    )
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every request (0.05)")
    parser.add_argument(
        "--rate", type=float, default=20.0, help="IAM requests/s per account before Throttling (20)"
    )
    parser.add_argument("--workers", type=int, default=None, help="iam-inventory WORKERS (default: sized)")
    parser.add_argument(
        "--account-concurrency", type=int, default=None, help="iam-inventory ACCOUNT_CONCURRENCY (default 4)"
    )
    parser.add_argument(
        "--mode", choices=("auto", "api"), default="auto", help="iam-inventory COLLECTION_MODE"
    )
    parser.add_argument("--naive-threads", type=int, default=8, help="threads of the second baseline (8)")
    parser.add_argument(
        "--naive-max-seconds", type=float, default=45.0, help="cap on each naive run per size (45)"
    )
    parser.add_argument("--naive-full", action="store_true", help="run the naive scans to the end (slow)")
    args = parser.parse_args(argv)
    sizes = [Size.parse(text) for text in args.sizes.split(",") if text.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="iam-inventory-bench-") as workdir:
        for size in sizes:
            estate = build_estate(size)
            results = bench_size(size, args, Path(workdir))
            print(describe(size, estate, results, args), flush=True)
            print(flush=True)
            rows.append((size, estate, results))
    print(summary_table(rows))


if __name__ == "__main__":
    main()
