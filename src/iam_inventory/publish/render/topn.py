"""The N smallest items of a stream by a sort key, in bounded memory."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

T = TypeVar("T")


class TopN(Generic[T]):
    """Keeps the `limit` items with the smallest keys seen so far, and counts every item."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen = 0
        self._items: list[tuple[Any, int, T]] = []

    def add(self, key: Any, item: T) -> None:
        """Offer one item."""
        self._items.append((key, self.seen, item))
        self.seen += 1
        # Trimming at twice the limit keeps the work per item constant on average.
        if len(self._items) >= 2 * self.limit:
            self._trim()

    def _trim(self) -> None:
        self._items.sort(key=lambda entry: (entry[0], entry[1]))
        del self._items[self.limit :]

    def items(self) -> list[T]:
        """The kept items, smallest key first."""
        self._trim()
        return [item for _, _, item in self._items]
