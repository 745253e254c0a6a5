"""Short renderings of values for messages a person reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def shorten_repr(value: Any, limit: int = 80) -> str:
    """repr of a bad input, cut short: an event with 10,001 account ids must not echo every one."""
    if isinstance(value, list | tuple) and len(value) > 3:
        shown = ", ".join(repr(item) for item in value[:3])
        return f"[{shown}, ... {len(value)} items]"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def pick_tags(tags: Iterable[dict[str, str]], tag_keys: Sequence[str]) -> dict[str, str]:
    """The tags among `tag_keys` (matched case-insensitively, as IAM treats keys), in that order."""
    wanted = {key.lower(): key for key in tag_keys}
    found = {wanted[tag["Key"].lower()]: tag["Value"] for tag in tags if tag["Key"].lower() in wanted}
    return {key: found[key] for key in tag_keys if key in found}
