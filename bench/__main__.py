"""`make bench`: the naive sequential scan against iam-inventory, same estate, same invocation.

For each size, a responder (bench/responder.py) serves a generated estate on loopback with per-request
latency and per-account IAM throttling; both implementations run against it in their own child process
(so CPU and peak RSS are theirs alone), and the responder's counters say what each one asked.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.estate import BenchAccount, Size, build_estate

DEFAULT_SIZES = "50,200,1000x100"


@dataclass
class Measured:
    """One implementation's figures on one size."""

    name: str
    wall: float
    cpu: float
    peak_rss_mb: float
    requests: int
    throttled: int
    by_operation: dict[str, int]
    by_account: dict[str, dict[str, int]]
    users: int
    keys: int
    accounts_done: int
    extrapolated_from: int | None = None
    retried: int | None = None
    extra: dict[str, Any] | None = None
    throttled_by_account: dict[str, int] | None = None

    @property
    def calls(self) -> int:
        """API operations (requests that were not throttled)."""
        return self.requests - self.throttled

    @property
    def cpu_per_call_ms(self) -> float:
        """CPU milliseconds per API operation."""
        return 1000 * self.cpu / max(1, self.calls)


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
    return environment | {
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
        "WORKERS": str(args.workers),
        "ACCOUNT_CONCURRENCY": str(args.account_concurrency),
        "COLLECTION_MODE": args.mode,
        # Tags come with GetAccountAuthorizationDetails' user pages, so the budget holds with them on.
        "USER_TAG_KEYS": "owner,team",
    }


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


def bench_size(size: Size, args: argparse.Namespace, workdir: Path) -> tuple[Measured, Measured]:
    """Both implementations on one size."""
    estate = build_estate(size)
    ids_file = workdir / f"accounts-{size.label}.txt"
    ids_file.write_text("\n".join(estate))
    responder = Responder(size, args.latency, args.rate)
    try:
        environment = child_environment(responder.endpoint, args)
        output, stats = measure(
            "ours",
            responder,
            "bench.ours",
            ["--accounts", str(ids_file), "--out", str(workdir / size.label)],
            environment,
        )
        ours = measured(
            f"iam-inventory ({args.mode})",
            output,
            stats,
            accounts_done=output["statuses"].get("scanned", 0),
            retried=output["retried_calls"],
            throttled_by_account=stats["throttled"],
            extra={"statuses": output["statuses"], "paths": output["paths"], "findings": output["findings"]},
        )
        max_seconds = math.inf if args.naive_full else args.naive_max_seconds
        output, stats = measure(
            "naive",
            responder,
            "bench.naive",
            ["--accounts", str(ids_file), "--max-seconds", str(max_seconds)],
            environment,
        )
        naive = measured("naive sequential", output, stats, accounts_done=output["accounts_done"])
        if naive.accounts_done < len(estate):
            naive = extrapolate(naive, estate)
        return naive, ours
    finally:
        responder.stop()


def extrapolate(naive: Measured, estate: dict[str, BenchAccount]) -> Measured:
    """Scale a partial naive run to the whole estate by API calls (its time is linear in calls)."""
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


def per_account_line(measured: Measured) -> str:
    """Mean and max API calls per account (the responder's count, AssumeRole included)."""
    calls = [sum(ops.values()) for account, ops in measured.by_account.items() if account != "999999999999"]
    if not calls:
        return "-"
    return f"mean {sum(calls) / len(calls):.1f}, max {max(calls)} (over {len(calls)} accounts)"


def describe(
    size: Size, estate: dict[str, BenchAccount], naive: Measured, ours: Measured, args: argparse.Namespace
) -> str:
    """The per-size block of the printout."""
    users = [len(account.users) for account in estate.values()]
    lines = [
        f"== {size.accounts} accounts, {sum(users)} users ({min(users)}-{max(users)} per account), "
        f"{sum(a.keys for a in estate.values())} keys; latency {args.latency * 1000:.0f} ms, "
        f"IAM limit {args.rate:g} req/s per account, WORKERS={args.workers}, "
        f"ACCOUNT_CONCURRENCY={args.account_concurrency} ==",
    ]
    for measured in (naive, ours):
        note = (
            f"  [EXTRAPOLATED from {measured.extrapolated_from}/{size.accounts} accounts by API calls]"
            if measured.extrapolated_from is not None
            else ""
        )
        lines += [
            f"-- {measured.name}{note}",
            f"   wall {measured.wall:9.1f} s   cpu {measured.cpu:8.1f} s"
            f"   cpu/call {measured.cpu_per_call_ms:.2f} ms"
            f"   peak RSS {measured.peak_rss_mb:.0f} MB",
            f"   API calls {measured.calls} (requests {measured.requests}, throttled {measured.throttled}"
            + (f", retried per botocore {measured.retried}" if measured.retried is not None else "")
            + ")",
            "   by operation: "
            + ", ".join(
                f"{op}={n}" for op, n in sorted(measured.by_operation.items(), key=lambda item: -item[1])
            ),
            f"   per account: {per_account_line(measured)}"
            + ("  (measured part only)" if measured.extrapolated_from is not None else ""),
            f"   data: {measured.users} users, {measured.keys} keys"
            + (
                f"; statuses {measured.extra['statuses']}, paths {measured.extra['paths']}"
                if measured.extra
                else ""
            ),
        ]
    expected_users = sum(users)
    expected_keys = sum(account.keys for account in estate.values())
    complete = (
        ours.users == expected_users and ours.keys == expected_keys and ours.accounts_done == size.accounts
    )
    over = sum(
        1
        for account_id, account in estate.items()
        if sum(ours.by_account.get(account_id, {}).values())
        - (ours.throttled_by_account or {}).get(account_id, 0)
        > 3 + math.ceil(len(account.users) / 1000) + account.users_with_keys
    )
    lines += [
        f"-- ratio naive/ours: wall {naive.wall / ours.wall:.1f}x, "
        f"API calls {naive.calls / max(1, ours.calls):.1f}x",
        f"-- complete data: {'yes' if complete else 'NO'} ({ours.users}/{expected_users} users, "
        f"{ours.keys}/{expected_keys} keys, {ours.accounts_done}/{size.accounts} accounts scanned)",
    ]
    if args.mode == "auto":
        lines.append(
            f"-- fast-path call budget (3 + ceil(users/1000) + users with keys, tags on; throttled attempts "
            "not counted): "
            f"{size.accounts - over}/{size.accounts} accounts within"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default=DEFAULT_SIZES, help=f"comma-separated: N or NxUSERS (default {DEFAULT_SIZES})"
    )
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every request (0.05)")
    parser.add_argument(
        "--rate", type=float, default=20.0, help="IAM requests/s per account before Throttling (20)"
    )
    parser.add_argument("--workers", type=int, default=32, help="iam-inventory WORKERS (32)")
    parser.add_argument(
        "--account-concurrency", type=int, default=4, help="iam-inventory ACCOUNT_CONCURRENCY (4)"
    )
    parser.add_argument(
        "--mode", choices=("auto", "api"), default="auto", help="iam-inventory COLLECTION_MODE"
    )
    parser.add_argument(
        "--naive-max-seconds", type=float, default=45.0, help="cap on the naive run per size (45)"
    )
    parser.add_argument("--naive-full", action="store_true", help="run the naive scan to the end (slow)")
    args = parser.parse_args(argv)
    sizes = [Size.parse(text) for text in args.sizes.split(",") if text.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="iam-inventory-bench-") as workdir:
        for size in sizes:
            estate = build_estate(size)
            naive, ours = bench_size(size, args, Path(workdir))
            print(describe(size, estate, naive, ours, args), flush=True)
            print(flush=True)
            rows.append((size, estate, naive, ours))
    print(
        "| size | users | naive wall | ours wall | naive/ours | ours calls/account (mean) "
        "| ours CPU/call | ours peak RSS | throttled (ours) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for size, estate, naive, ours in rows:
        users = sum(len(account.users) for account in estate.values())
        naive_wall = f"{naive.wall:.0f} s" + (
            " (extrapolated)" if naive.extrapolated_from is not None else ""
        )
        print(
            f"| {size.label} | {users} | {naive_wall} | {ours.wall:.1f} s | {naive.wall / ours.wall:.0f}x | "
            f"{ours.calls / size.accounts:.1f} | {ours.cpu_per_call_ms:.2f} ms | "
            f"{ours.peak_rss_mb:.0f} MB | {ours.throttled} |"
        )


if __name__ == "__main__":
    main()
