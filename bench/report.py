"""The benchmark's printout: one block per size and run, then a summary table."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from bench.estate import BenchAccount, Size
from bench.responder import HUB_ACCOUNT

NAIVE = ("naive", "naive-threads")
OTHER_CREDENTIAL_CALLS = ("ListServiceSpecificCredentials", "ListSigningCertificates", "ListSSHPublicKeys")
# The per-user reads of verification: each at most once per user, whatever the candidates on it.
PER_USER_FACTS = ("GetLoginProfile", "GetUser", "ListMFADevices")
RSS_TARGET_MB = 256


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
    kind: str | None = None  # first, steady or cached; None for the baselines

    @property
    def calls(self) -> int:
        """API operations (requests that were not throttled)."""
        return self.requests - self.throttled

    @property
    def cpu_per_request_ms(self) -> float:
        """CPU milliseconds per request sent (throttled ones included: each was signed and parsed)."""
        return 1000 * self.cpu / max(1, self.requests)

    def account_calls(self) -> dict[str, int]:
        """Calls per spoke account (the responder's count, AssumeRole included, throttled not)."""
        throttled = self.throttled_by_account or {}
        return {
            account: sum(ops.values()) - throttled.get(account, 0)
            for account, ops in self.by_account.items()
            if account != HUB_ACCOUNT
        }


def block(measured: Measured, accounts: int) -> list[str]:
    """The lines of one implementation's figures."""
    note = (
        f"  [EXTRAPOLATED from {measured.extrapolated_from}/{accounts} accounts by API calls]"
        if measured.extrapolated_from is not None
        else ""
    )
    calls = list(measured.account_calls().values())
    extra = measured.extra or {}
    lines = [
        f"-- {measured.name}{note}",
        f"   wall {measured.wall:9.1f} s   cpu {measured.cpu:8.1f} s"
        f"   cpu/request {measured.cpu_per_request_ms:.2f} ms   peak RSS {measured.peak_rss_mb:.0f} MB",
        f"   API calls {measured.calls} (requests {measured.requests}, throttled {measured.throttled}"
        + (f", retried per botocore {measured.retried}" if measured.retried is not None else "")
        + ")",
        "   by operation: "
        + ", ".join(
            f"{op}={n}" for op, n in sorted(measured.by_operation.items(), key=lambda item: -item[1])
        ),
    ]
    if calls:
        lines.append(
            f"   calls per account: mean {sum(calls) / len(calls):.1f}, max {max(calls)} (over {len(calls)}"
            " accounts" + (", measured part only)" if measured.extrapolated_from is not None else ")")
        )
    if extra.get("scan_phase_peak_rss_mb") is not None:
        lines.append(
            f"   peak RSS when the last account was stored: {extra['scan_phase_peak_rss_mb']:.0f} MB"
        )
    if extra.get("system_cpu") is not None:
        lines.append(f"   of the CPU, in the kernel: {extra['system_cpu']:.1f} s")
    if extra.get("finalize_cpu") is not None:
        lines.append(
            f"   finalize (after the last account was stored): {extra['finalize_cpu']:.1f} s CPU, "
            f"{extra['findings']} findings written"
        )
    lines.append(
        f"   data: {measured.users} users, {measured.keys} keys"
        + (f"; statuses {extra['statuses']}, paths {extra['paths']}" if extra else "")
    )
    return lines


def largest_account_bound(measured: Measured, rate: float) -> float:
    """No run beats its largest account: IAM serves that account's calls at `rate` per second at best."""
    return max(measured.account_calls().values(), default=0) / rate


def budget_line(measured: Measured, estate: dict[str, BenchAccount]) -> str:
    """The run's call budget per account and how many accounts kept it."""
    calls = measured.account_calls()
    rotated = (measured.extra or {}).get("rotated") or {}
    if measured.kind == "cached":
        most = (measured.extra or {}).get("most_per_user") or {}
        reads = ", ".join(f"{op} {most.get(op, 0)}" for op in PER_USER_FACTS)
        verifications = list(((measured.extra or {}).get("verification_calls_by_account") or {}).values())
        mean = sum(verifications) / max(1, len(verifications))
        held = all(most.get(op, 0) <= 1 for op in PER_USER_FACTS)
        return (
            f"-- cached-report budget: each live fact of a user read at most once: "
            f"{'HOLDS' if held else 'BROKEN'} (most calls on one user: {reads}); "
            f"verification calls per account mean {mean:.1f}, max {max(verifications, default=0)}"
        )
    # The other credentials (issue 17) cost the same on every run the report is this run's.
    others = "ceil(service credentials/1000) + users with certificates + CodeCommit users"
    if measured.kind == "steady":
        formula = f"3 + ceil(users/1000) + users whose keys changed + {others}"

        def allowed(account_id: str, account: BenchAccount) -> int:
            changed = 1 if account_id in rotated else 0
            return account.call_budget() - account.users_with_keys + changed
    else:
        formula = f"3 + ceil(users/1000) + users with keys + {others}"

        def allowed(account_id: str, account: BenchAccount) -> int:
            return account.call_budget()

    within = sum(
        1
        for account_id, account in estate.items()
        if calls.get(account_id, 0) <= allowed(account_id, account)
    )
    changed = f"; {len(rotated)} accounts with one rotated key" if measured.kind == "steady" else ""
    verdict = "HOLDS" if within == len(estate) else "BROKEN"
    return f"-- call budget ({formula}, tags on{changed}): {verdict}, {within}/{len(estate)} accounts within"


def describe(
    size: Size, estate: dict[str, BenchAccount], results: dict[str, Measured], args: argparse.Namespace
) -> str:
    """The per-size block of the printout."""
    users = [len(account.users) for account in estate.values()]
    keys = sum(account.keys for account in estate.values())
    lines = [
        f"== {size.accounts} accounts, {sum(users)} users ({min(users)}-{max(users)} per account), "
        f"{keys} keys; latency {args.latency * 1000:.0f} ms, IAM limit {args.rate:g} req/s per account ==",
    ]
    for key in NAIVE:
        if key in results:
            lines += block(results[key], size.accounts)
    ours = [measured for key, measured in results.items() if key.startswith("ours-")]
    for measured in ours:
        lines += block(measured, size.accounts)
        for key in NAIVE:
            if key in results:
                naive = results[key]
                lines.append(
                    f"   ratio {naive.name} / this run: wall {naive.wall / measured.wall:.1f}x, "
                    f"API calls {naive.calls / max(1, measured.calls):.1f}x"
                )
        bound = largest_account_bound(measured, args.rate)
        if bound:
            lines.append(
                f"   bound set by the largest account: {bound * args.rate:.0f} calls / {args.rate:g} req/s = "
                f"{bound:.1f} s; this run took {measured.wall / bound:.2f}x that"
            )
        complete = (
            measured.users == sum(users) and measured.keys == keys and measured.accounts_done == size.accounts
        )
        lines.append(
            f"   complete data: {'yes' if complete else 'NO'} ({measured.users}/{sum(users)} users, "
            f"{measured.keys}/{keys} keys, {measured.accounts_done}/{size.accounts} accounts scanned)"
        )
        if args.mode == "auto":
            lines.append("   " + budget_line(measured, estate).removeprefix("-- "))
            other = {
                operation: sum(ops.get(f"iam:{operation}", 0) for ops in measured.by_account.values())
                / size.accounts
                for operation in OTHER_CREDENTIAL_CALLS
            }
            lines.append(
                "   of which the other credentials, per account (mean): "
                + ", ".join(f"{operation} {calls:.1f}" for operation, calls in other.items())
            )
        lines.append(
            f"   peak RSS {measured.peak_rss_mb:.0f} MB: "
            + ("under" if measured.peak_rss_mb < RSS_TARGET_MB else "OVER")
            + f" the {RSS_TARGET_MB} MB target"
        )
    digests = {m.kind: (m.extra or {}).get("findings_digest") for m in ours}
    if "steady" in digests and "cached" in digests:
        same = digests["steady"] == digests["cached"]
        lines.append(
            f"-- findings and failed accounts of the cached run equal the steady-state run's (same estate): "
            f"{'yes' if same else 'NO'}"
        )
    return "\n".join(lines)


def summary_table(rows: list[tuple[Size, dict[str, BenchAccount], dict[str, Measured]]], rate: float) -> str:
    """The Markdown table of every size and run."""
    lines = [
        "| size | run | users | wall | naive seq / ours | naive threads / ours | calls/account (mean, max) "
        "| CPU/request | peak RSS | largest-account bound | budget |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size, estate, results in rows:
        users = sum(len(account.users) for account in estate.values())
        for key, measured in results.items():
            if not key.startswith("ours-"):
                continue
            calls = list(measured.account_calls().values())
            budget = budget_line(measured, estate).split(": ", 1)[1].split(",")[0].split(" (")[0]
            lines.append(
                f"| {size.label} | {measured.kind} | {users} | {measured.wall:.1f} s "
                f"| {_ratio(results, 'naive', measured)} | {_ratio(results, 'naive-threads', measured)} "
                f"| {sum(calls) / max(1, len(calls)):.1f}, {max(calls, default=0)} "
                f"| {measured.cpu_per_request_ms:.2f} ms | {measured.peak_rss_mb:.0f} MB "
                f"| {largest_account_bound(measured, rate):.1f} s | {budget} |"
            )
    return "\n".join(lines)


def _ratio(results: dict[str, Measured], key: str, measured: Measured) -> str:
    if key not in results:
        return "-"
    naive = results[key]
    return f"{naive.wall / measured.wall:.1f}x" + (
        " (extrap.)" if naive.extrapolated_from is not None else ""
    )
