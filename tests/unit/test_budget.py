"""The time budget: deadlines from a Lambda context, and scheduling that never outlives the deadline."""

from __future__ import annotations

import threading

from iam_inventory.core.budget import Deadline, map_within_deadline


class FakeContext:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_deadline_from_lambda_context_keeps_a_reserve_for_publishing():
    # Given 100 s left in the invocation and a 30 s reserve
    context = FakeContext(100_000)
    deadline = Deadline.from_lambda_context(context, reserve_seconds=30)

    # Then 70 s remain for scanning, following the context as time passes
    assert deadline.remaining() == 70
    context.remaining_ms = 29_000
    assert deadline.remaining() == -1
    assert deadline.expired


def test_sooner_takes_the_earlier_deadline():
    clock = [0.0]
    outer = Deadline.after(100, lambda: clock[0])
    assert outer.sooner(10, lambda: clock[0]).remaining() == 10
    assert Deadline.after(5, lambda: clock[0]).sooner(10, lambda: clock[0]).remaining() == 5


def unfinished(item: int, started: bool) -> str:
    return f"{item}:{'cut' if started else 'not-started'}"


def test_everything_runs_when_time_is_plenty():
    # Given an unlimited deadline
    # When ten items run on three workers
    results = map_within_deadline(list(range(10)), lambda n: n * n, 3, Deadline.unlimited(), 5, unfinished)

    # Then every item has its own result, in input order
    assert results == [n * n for n in range(10)]


def test_no_item_starts_once_only_the_grace_period_remains():
    # Given a context whose time runs short as soon as the second item finishes
    context = FakeContext(100_000)
    deadline = Deadline.from_lambda_context(context, reserve_seconds=0)

    def work(item: int) -> str:
        if item == 1:
            context.remaining_ms = 10_000  # 10 s left: inside the 20 s grace period
        return f"{item}:done"

    # When five items run one at a time with a 20 s grace period
    results = map_within_deadline(list(range(5)), work, 1, deadline, 20, unfinished)

    # Then the first two finished and the rest were never started, but still have a result
    assert results == ["0:done", "1:done", "2:not-started", "3:not-started", "4:not-started"]


def test_in_flight_items_are_cut_at_the_deadline_without_waiting_for_them():
    # Given one item that hangs and a deadline that passes while it hangs
    context = FakeContext(100_000)
    deadline = Deadline.from_lambda_context(context, reserve_seconds=0)
    release = threading.Event()
    started = threading.Event()

    def work(item: int) -> str:
        if item == 0:
            started.set()
            release.wait()
            return "0:late"
        started.wait()
        context.remaining_ms = 0  # the deadline passes while item 0 is still in flight
        return f"{item}:done"

    # When three items run on two workers
    try:
        results = map_within_deadline(list(range(3)), work, 2, deadline, 5, unfinished, poll_seconds=0.01)
    finally:
        release.set()

    # Then the hanging item is reported as cut, the unstarted one as not started: nothing is lost
    assert results == ["0:cut", "1:done", "2:not-started"]
