"""map_bounded: order kept, at most `concurrency` in flight, every item run, threads reused per caller."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from iam_inventory.collect.calls import map_bounded


def test_results_keep_the_order_and_at_most_concurrency_run_at_once() -> None:
    # Given a function that records how many calls are in flight
    lock, running, peak = threading.Lock(), [0], [0]

    def work(item: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.01 * (item % 3))
        with lock:
            running[0] -= 1
        return item * 10

    # When it maps twenty items four at a time
    # Then the results are in the items' order, and never more than four ran at once
    assert map_bounded(work, range(20), 4) == [item * 10 for item in range(20)]
    assert 1 < peak[0] <= 4


def test_every_item_runs_before_the_first_error_in_order_is_raised() -> None:
    # Given items 2 and 5 failing, 2 slowly
    ran: list[int] = []

    def work(item: int) -> int:
        if item == 2:
            time.sleep(0.05)
            raise ValueError("two")
        if item == 5:
            raise KeyError("five")
        ran.append(item)
        return item

    # When they are mapped
    # Then the first failing item in order raises, after every other item ran
    with pytest.raises(ValueError, match="two"):
        map_bounded(work, range(8), 3)
    assert sorted(ran) == [0, 1, 3, 4, 6, 7]


def test_a_caller_thread_reuses_its_pool_and_its_threads_end_with_it() -> None:
    # Given account threads that each map small lists many times
    before = threading.active_count()
    names: set[str] = set()

    def account(_: int) -> None:
        for _ in range(20):
            names.update(map_bounded(lambda _: threading.current_thread().name, range(4), 4))

    # When four of them run
    with ThreadPoolExecutor(max_workers=4) as accounts:
        list(accounts.map(account, range(4)))

    # Then at most four pool threads served each account thread (80 calls, not 80 pools)
    assert len(names) <= 16
    # And once the account threads are gone, so are their pools' threads
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= before
