"""The simulator's clock: the wall clock plus an offset that tests and the demo move forward."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class SimClock:
    """What time the simulated AWS thinks it is; `advance` ages cached credential reports."""

    def __init__(self, wall: Callable[[], datetime] | None = None) -> None:
        self._wall = wall or (lambda: datetime.now(UTC))
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The simulated current time (aware UTC)."""
        with self._lock:
            return self._wall() + self._offset

    def advance(self, delta: timedelta) -> None:
        """Move simulated time forward (never backward: AWS time does not run back)."""
        if delta < timedelta(0):
            raise ValueError("the simulator clock only moves forward")
        with self._lock:
            self._offset += delta

    def reset(self) -> None:
        """Back to the wall clock."""
        with self._lock:
            self._offset = timedelta(0)
