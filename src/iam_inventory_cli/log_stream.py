"""Where the CLI sends the job's logs: stderr, never the stdout that carries the table, JSON or CSV."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TextIO


@contextlib.contextmanager
def logs_to(stream: TextIO, level: str = "WARNING") -> Iterator[None]:
    """Send the job's logs to `stream` at `level`, then restore."""
    from iam_inventory.core.observability import logger

    handler = logger.registered_handler
    previous_level = logger.log_level
    # stdout carries the table, JSON or CSV the user asked for, so logs must not land there.
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    logger.setLevel(level)
    try:
        yield
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]
        logger.setLevel(previous_level)
