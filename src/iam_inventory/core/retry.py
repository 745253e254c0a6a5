"""Patience with AWS: error codes, throttling, and backoff with jitter (the one home of each)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from iam_inventory.core.budget import Deadline

T = TypeVar("T")
Sleep = Callable[[float], None]

# The codes AWS services use for "slow down" (IAM and STS: Throttling; JSON services add Exception).
THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}
)


def client_error_code(error: BaseException) -> str | None:
    """The AWS error code of a ClientError, else None."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or "")
    return None


def error_code(error: BaseException) -> str:
    """A short, stable code for the report: the AWS error code, or the kind of transport failure."""
    if isinstance(error, ClientError):
        return client_error_code(error) or "ClientError"
    if isinstance(error, ConnectTimeoutError | ReadTimeoutError):
        return "Timeout"
    if isinstance(error, BotoCoreError):
        return type(error).__name__
    return "InternalError"


def backoff_delays(base: float = 0.25, cap: float = 8.0) -> Callable[[int], float]:
    """Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter")."""
    rng = random.Random()

    def delay(attempt: int) -> float:
        return rng.uniform(0, min(cap, base * 2**attempt))

    return delay


def call_patiently(
    call: Callable[[], T],
    deadline: Deadline,
    sleep: Sleep = time.sleep,
    delay: Callable[[int], float] | None = None,
) -> T:
    """Call; when throttled beyond botocore's own retries, back off and call again while time remains."""
    attempt = 0
    while True:
        try:
            return call()
        except ClientError as error:
            # Made at the first throttle, not per call: seeding a Random reads os.urandom (~25 us).
            delay = delay or backoff_delays()
            wait = delay(attempt)
            if client_error_code(error) not in THROTTLING_CODES or deadline.remaining() <= wait:
                raise
        sleep(wait)
        attempt += 1
