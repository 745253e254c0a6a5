"""IAM-specific call helpers: NoSuchEntity and AccessDenied tests, a bounded per-account pool.

The generic patience (throttling codes, backoff, call_patiently) lives once, in core/retry.py.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from iam_inventory.core.retry import client_error_code

ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})

T = TypeVar("T")
R = TypeVar("R")


def is_no_such_entity(error: BaseException) -> bool:
    """True for IAM's NoSuchEntity: the user (or key) was deleted, or never had the thing asked for."""
    return client_error_code(error) == "NoSuchEntity"


def is_access_denied(error: BaseException) -> bool:
    """True when the spoke role may not make the call."""
    return client_error_code(error) in ACCESS_DENIED_CODES


def map_bounded(function: Callable[[T], R], items: Iterable[T], concurrency: int) -> list[R]:
    """`function` over `items`, `concurrency` at a time (IAM throttles per account); order is kept."""
    listed = list(items)
    if concurrency <= 1 or len(listed) <= 1:
        return [function(item) for item in listed]
    # Each call runs in a copy of the caller's context: the spoke account it acts in goes along.
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="iam") as pool:
        return list(pool.map(lambda item: context.copy().run(function, item), listed))
