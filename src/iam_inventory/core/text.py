"""Short renderings of values for messages a person reads."""

from __future__ import annotations

from typing import Any


def shorten_repr(value: Any, limit: int = 80) -> str:
    """repr of a bad input, cut short: an event with 10,001 account ids must not echo every one."""
    if isinstance(value, list | tuple) and len(value) > 3:
        shown = ", ".join(repr(item) for item in value[:3])
        return f"[{shown}, ... {len(value)} items]"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"
