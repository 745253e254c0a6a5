"""Finalize streams: its peak allocation does not grow with the number of accounts (measured, not timed)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

from iam_inventory.evaluate.rules import evaluate
from iam_inventory.models import Account, AccountResult, AccountStatus, Thresholds
from iam_inventory.models.scan import AccountScan
from iam_inventory.pipeline.finalize import Outputs, finalize_run
from iam_inventory.publish.render import htmltable
from tests.builders import NOW, make_inventory, make_key, make_user
from tests.publish_support import context, local_runtime

USERS = 20


def synthetic_scans(run_id: str, accounts: int) -> Iterator[AccountScan]:
    """`accounts` accounts of USERS users, each with an old and a never-used key: built as they are read."""
    for number in range(accounts):
        account_id = f"{100000000000 + number}"
        users = [
            make_user(
                f"user-{index}",
                keys=(
                    make_key(f"AKIA{number:08d}{index:06d}A", age=200),
                    make_key(f"AKIA{number:08d}{index:06d}B", age=30, used=None),
                ),
                console=index % 3 == 0,
            )
            for index in range(USERS)
        ]
        inventory = make_inventory(*users, account_id=account_id)
        result = AccountResult(Account(account_id, f"account {number}"), AccountStatus.SCANNED, inventory)
        yield AccountScan(run_id, result, tuple(evaluate(inventory, Thresholds(), NOW)))


def peak_bytes(folder, accounts: int) -> int:
    """Peak traced allocation of a second run (a previous run present) over `accounts` accounts."""
    outputs = Outputs(spool_bytes=64 * 1024)
    for run_id, day in (("first", 0), ("second", 1)):
        run = context(run_id, day=day)
        if run_id == "second":
            tracemalloc.start()
        finalize_run(
            run,
            lambda run_id=run_id: synthetic_scans(run_id, accounts),
            local_runtime(folder),
            outputs,
            lambda run=run: run.started_at,
        )
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_peak_allocation_stays_flat_from_n_to_4n_accounts(tmp_path, monkeypatch):
    # Given a page that lists at most 50 findings (the top-N is the only list that grows, up to its cap)
    monkeypatch.setattr(htmltable, "MAX_FINDING_ROWS", 50)
    # When a second run is finalized over 25 and then 100 accounts of 20 users (2 and 8 thousand findings)
    small = peak_bytes(tmp_path / "small", 25)
    large = peak_bytes(tmp_path / "large", 100)
    # Then four times the estate costs at most a fifth more memory at the peak
    assert (tmp_path / "large" / "findings.csv").stat().st_size > 3 * (
        tmp_path / "small" / "findings.csv"
    ).stat().st_size
    print(f"peak {small} bytes at 25 accounts, {large} at 100")
    assert large < small * 1.2, (small, large)
