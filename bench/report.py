"""The benchmark's printout: one block per size, then a summary table."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from bench.estate import BenchAccount, Size
from bench.responder import HUB_ACCOUNT


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


def per_account_line(measured: Measured) -> str:
    """Mean and max API calls per account (the responder's count, AssumeRole included)."""
    calls = [sum(ops.values()) for account, ops in measured.by_account.items() if account != HUB_ACCOUNT]
    if not calls:
        return "-"
    return f"mean {sum(calls) / len(calls):.1f}, max {max(calls)} (over {len(calls)} accounts)"


def block(measured: Measured, accounts: int) -> list[str]:
    """The lines of one implementation's figures."""
    note = (
        f"  [EXTRAPOLATED from {measured.extrapolated_from}/{accounts} accounts by API calls]"
        if measured.extrapolated_from is not None
        else ""
    )
    return [
        f"-- {measured.name}{note}",
        f"   wall {measured.wall:9.1f} s   cpu {measured.cpu:8.1f} s"
        f"   cpu/call {measured.cpu_per_call_ms:.2f} ms   peak RSS {measured.peak_rss_mb:.0f} MB",
        f"   API calls {measured.calls} (requests {measured.requests}, throttled {measured.throttled}"
        + (f", retried per botocore {measured.retried}" if measured.retried is not None else "")
        + ")",
        "   by operation: "
        + ", ".join(
            f"{op}={n}" for op, n in sorted(measured.by_operation.items(), key=lambda item: -item[1])
        ),
        f"   per account: {per_account_line(measured)}"
        + ("  (measured part only)" if measured.extrapolated_from is not None else ""),
        *(
            [f"   peak RSS when the last account was stored (scan phase): {scan_rss:.0f} MB"]
            if (scan_rss := (measured.extra or {}).get("scan_phase_peak_rss_mb")) is not None
            else []
        ),
        f"   data: {measured.users} users, {measured.keys} keys"
        + (
            f"; statuses {measured.extra['statuses']}, paths {measured.extra['paths']}"
            if measured.extra
            else ""
        ),
    ]


OTHER_CREDENTIAL_CALLS = ("ListServiceSpecificCredentials", "ListSigningCertificates", "ListSSHPublicKeys")


def describe(
    size: Size, estate: dict[str, BenchAccount], results: dict[str, Measured], args: argparse.Namespace
) -> str:
    """The per-size block of the printout."""
    users = [len(account.users) for account in estate.values()]
    ours = results["ours"]
    lines = [
        f"== {size.accounts} accounts, {sum(users)} users ({min(users)}-{max(users)} per account), "
        f"{sum(a.keys for a in estate.values())} keys; latency {args.latency * 1000:.0f} ms, "
        f"IAM limit {args.rate:g} req/s per account ==",
    ]
    for key in ("naive", "naive-threads", "ours", "ours-second"):
        if key in results:
            lines += block(results[key], size.accounts)
    for key in ("naive", "naive-threads"):
        if key in results:
            naive = results[key]
            lines.append(
                f"-- ratio {naive.name} / ours: wall {naive.wall / ours.wall:.1f}x, "
                f"API calls {naive.calls / max(1, ours.calls):.1f}x"
            )
    expected_users = sum(users)
    expected_keys = sum(account.keys for account in estate.values())
    complete = (
        ours.users == expected_users and ours.keys == expected_keys and ours.accounts_done == size.accounts
    )
    lines.append(
        f"-- complete data: {'yes' if complete else 'NO'} ({ours.users}/{expected_users} users, "
        f"{ours.keys}/{expected_keys} keys, {ours.accounts_done}/{size.accounts} accounts scanned)"
    )
    lines.append(f"-- calls per account (ours, mean): {ours.calls / size.accounts:.1f}")
    # No run can beat its largest account: IAM serves that account's calls at `rate` per second at best.
    largest = max(sum(ops.values()) for ops in ours.by_account.values()) if ours.by_account else 0
    if largest:
        bound = largest / args.rate
        lines.append(
            f"-- bound set by the largest account: {largest} calls / {args.rate:g} req/s = {bound:.1f} s; "
            f"ours took {ours.wall / bound:.2f}x that"
        )
    if args.mode == "auto":
        over = sum(
            1
            for account_id, account in estate.items()
            if sum(ours.by_account.get(account_id, {}).values())
            - (ours.throttled_by_account or {}).get(account_id, 0)
            > account.call_budget()
        )
        budgets = [account.call_budget() for account in estate.values()]
        lines.append(
            "-- call budget per account (3 + ceil(users/1000) + users with keys + "
            "ceil(service credentials/1000) + users with certificates + CodeCommit users, tags on): "
            f"mean {sum(budgets) / len(budgets):.1f}, max {max(budgets)}; "
            f"{size.accounts - over}/{size.accounts} accounts within (throttled attempts not counted)"
        )
        other = {
            operation: sum(ops.get(f"iam:{operation}", 0) for ops in ours.by_account.values()) / size.accounts
            for operation in OTHER_CREDENTIAL_CALLS
        }
        lines.append(
            "-- of which the other credentials, per account (mean): "
            + ", ".join(f"{operation} {calls:.1f}" for operation, calls in other.items())
        )
    verifications = list(((ours.extra or {}).get("verification_calls_by_account") or {}).values())
    if verifications:
        lines.append(
            f"-- verification calls per account (part of the calls above): mean "
            f"{sum(verifications) / len(verifications):.1f}, max {max(verifications)}"
        )
    if "ours-second" in results:
        lines.append(
            "-- peak RSS of the second run (previous run present): "
            f"{results['ours-second'].peak_rss_mb:.0f} MB (target < 256 MB)"
        )
    return "\n".join(lines)


def summary_table(rows: list[tuple[Size, dict[str, BenchAccount], dict[str, Measured]]]) -> str:
    """The Markdown table of every size."""
    lines = [
        "| size | users | naive seq wall | naive 8-thread wall | ours wall | seq/ours | threads/ours "
        "| ours calls/account | ours CPU/call | ours peak RSS | 2nd run peak RSS | throttled (ours) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size, estate, results in rows:
        ours = results["ours"]
        users = sum(len(account.users) for account in estate.values())
        second = f"{results['ours-second'].peak_rss_mb:.0f} MB" if "ours-second" in results else "-"
        lines.append(
            f"| {size.label} | {users} | {_wall(results, 'naive')} | {_wall(results, 'naive-threads')} "
            f"| {ours.wall:.1f} s | {_ratio(results, 'naive')} | {_ratio(results, 'naive-threads')} "
            f"| {ours.calls / size.accounts:.1f} | {ours.cpu_per_call_ms:.2f} ms | {ours.peak_rss_mb:.0f} MB "
            f"| {second} | {ours.throttled} |"
        )
    return "\n".join(lines)


def _wall(results: dict[str, Measured], key: str) -> str:
    if key not in results:
        return "-"
    naive = results[key]
    return f"{naive.wall:.0f} s" + (" (extrapolated)" if naive.extrapolated_from is not None else "")


def _ratio(results: dict[str, Measured], key: str) -> str:
    return f"{results[key].wall / results['ours'].wall:.1f}x" if key in results else "-"
