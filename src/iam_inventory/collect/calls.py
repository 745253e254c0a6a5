"""Calling IAM patiently: error codes, throttling backoff within the deadline, a bounded per-account pool."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from botocore.exceptions import ClientError

from iam_inventory.core.budget import Deadline, backoff_delays

THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}
)
ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})

T = TypeVar("T")
R = TypeVar("R")
Sleep = Callable[[float], None]


def client_error_code(error: BaseException) -> str | None:
    """The AWS error code of a ClientError, else None."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or "")
    return None


def is_no_such_entity(error: BaseException) -> bool:
    """True for IAM's NoSuchEntity: the user (or key) was deleted, or never had the thing asked for."""
    return client_error_code(error) == "NoSuchEntity"


def is_access_denied(error: BaseException) -> bool:
    """True when the spoke role may not make the call."""
    return client_error_code(error) in ACCESS_DENIED_CODES


def call_patiently(
    call: Callable[[], T],
    deadline: Deadline,
    sleep: Sleep = time.sleep,
    delay: Callable[[int], float] | None = None,
) -> T:
    """Call; when throttled beyond botocore's own retries, back off and call again while time remains."""
    delay = delay or backoff_delays()
    attempt = 0
    while True:
        try:
            return call()
        except ClientError as error:
            wait = delay(attempt)
            if client_error_code(error) not in THROTTLING_CODES or deadline.remaining() <= wait:
                raise
        sleep(wait)
        attempt += 1


def map_bounded(function: Callable[[T], R], items: Iterable[T], concurrency: int) -> list[R]:
    """`function` over `items`, `concurrency` at a time (IAM throttles per account); order is kept."""
    listed = list(items)
    if concurrency <= 1 or len(listed) <= 1:
        return [function(item) for item in listed]
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="iam") as pool:
        return list(pool.map(function, listed))
