"""The one wall clock of the job; everything below the entry points receives times, never reads them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)
