"""Time budget: how long a run (or one wait inside it) may still take, from an injectable clock."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Protocol, TypeVar

Seconds = Callable[[], float]
T = TypeVar("T")
R = TypeVar("R")


class RemainingTime(Protocol):
    """The part of a Lambda context the budget reads."""

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before Lambda stops the invocation."""
        ...


@dataclass(frozen=True, slots=True)
class Deadline:
    """A moment in the future, read as "seconds remaining" so a fake clock can drive it in tests."""

    remaining_seconds: Seconds

    @classmethod
    def unlimited(cls) -> Deadline:
        """No deadline (the CLI, local runs)."""
        return cls(lambda: math.inf)

    @classmethod
    def after(cls, seconds: float, clock: Seconds = time.monotonic) -> Deadline:
        """`seconds` from now on `clock`."""
        end = clock() + seconds
        return cls(lambda: end - clock())

    @classmethod
    def from_lambda_context(cls, context: RemainingTime, reserve_seconds: float) -> Deadline:
        """The Lambda's remaining time minus a reserve kept for publishing the report."""
        return cls(lambda: context.get_remaining_time_in_millis() / 1000 - reserve_seconds)

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.remaining_seconds()

    @property
    def expired(self) -> bool:
        """True once the deadline has passed."""
        return self.remaining() <= 0

    def sooner(self, seconds: float, clock: Seconds = time.monotonic) -> Deadline:
        """This deadline or `seconds` from now, whichever comes first."""
        other = Deadline.after(seconds, clock)
        return Deadline(lambda: min(self.remaining(), other.remaining()))


def map_within_deadline(
    items: Sequence[T],
    work: Callable[[T], R],
    workers: int,
    deadline: Deadline,
    grace_seconds: float,
    unfinished: Callable[[T, bool], R],
    poll_seconds: float = 0.5,
    on_done: Callable[[R, int, int], None] | None = None,
) -> list[R]:
    """Run `work` over `items` on a bounded pool, in order, without outliving the deadline.

    Items start only while more than `grace_seconds` remain; after that, the ones in flight get until
    the deadline to finish. Every item gets a result: `unfinished(item, started)` for the rest.
    `on_done(result, finished, total)` is called from this thread as each item finishes.
    """
    results: dict[int, R] = {}
    in_flight: dict[Future[R], int] = {}
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="account")
    next_index = 0
    try:
        while True:
            while (
                next_index < len(items) and len(in_flight) < workers and deadline.remaining() > grace_seconds
            ):
                in_flight[pool.submit(work, items[next_index])] = next_index
                next_index += 1
            remaining = deadline.remaining()
            if not in_flight or remaining <= 0:
                break
            done, _ = wait(in_flight, timeout=min(poll_seconds, remaining), return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                results[in_flight.pop(future)] = result
                if on_done is not None:
                    on_done(result, len(results), len(items))
    finally:
        # Threads still running are abandoned, not awaited: the report must go out before the deadline.
        pool.shutdown(wait=False, cancel_futures=True)
    for future, index in in_flight.items():
        results[index] = future.result() if future.done() else unfinished(items[index], True)
    return [
        results[index] if index in results else unfinished(items[index], False) for index in range(len(items))
    ]
