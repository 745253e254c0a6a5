"""Large JSON documents written piece by piece: lists are spooled as they grow, then stitched in place."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from iam_inventory.publish.spool import SPOOL_BYTES, Spool

# One encoder for every element: json.dumps with options builds a new one per call.
_COMPACT = json.JSONEncoder(ensure_ascii=False)


def _compact(value: Any) -> str:
    return _COMPACT.encode(value)


def _dumps(value: Any, level: int) -> str:
    # Strings escape their newlines, so every raw newline is indentation and can be shifted.
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + "  " * level)


class JsonList:
    """A JSON array that lives in a spool until it is written into its document."""

    def __init__(self, level: int, spool_bytes: int = SPOOL_BYTES) -> None:
        self.level = level
        self.count = 0
        self._spool = Spool(spool_bytes)

    def add(self, value: Any) -> None:
        """Append one element, on a line of its own."""
        self.add_all((value,))

    def add_all(self, values: Iterable[Any]) -> None:
        """Append elements, a line each: compact, so the C encoder writes them (indent is pure Python)."""
        parts = [_compact(value) for value in values]
        if not parts:
            return
        pad = "\n" + "  " * (self.level + 1)
        self._spool.write(("," if self.count else "") + pad + ("," + pad).join(parts))
        self.count += len(parts)

    def write_to(self, target: Spool) -> None:
        """The whole array, into `target`; the spool is freed."""
        if not self.count:
            target.write("[]")
        else:
            target.write("[")
            self._spool.copy_to(target)
            target.write("\n" + "  " * self.level + "]")
        self._spool.close()


def write_json(target: Spool, value: Any, level: int = 0) -> None:
    """`value` as indented JSON, where any JsonList stands for the array it spooled."""
    if isinstance(value, JsonList):
        value.write_to(target)
    elif isinstance(value, dict) and _holds_lists(value):
        pad = "  " * (level + 1)
        target.write("{")
        for index, (key, item) in enumerate(value.items()):
            target.write(("," if index else "") + "\n" + pad + json.dumps(key) + ": ")
            write_json(target, item, level + 1)
        target.write("\n" + "  " * level + "}")
    else:
        target.write(_dumps(value, level))


def _holds_lists(value: Any) -> bool:
    if isinstance(value, JsonList):
        return True
    return isinstance(value, dict) and any(_holds_lists(item) for item in value.values())
