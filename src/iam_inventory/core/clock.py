"""The one wall clock of the job; everything below the entry points receives times, never reads them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with a Z suffix for UTC, or None."""
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """A moment written by iso(), read back."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
