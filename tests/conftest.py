"""Shared fixtures: a fixed clock, a fake Lambda context, and builders of hand-made inventories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

from iam_inventory.observability import metrics
from tests.builders import NOW


@dataclass
class FakeContext:
    """The parts of LambdaContext the handler and Powertools read."""

    function_name: str = "iam-inventory-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:iam-inventory-test"
    aws_request_id: str = "5f0c8a3e-1111-2222-3333-444455556666"
    remaining_ms: int = 900_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def lambda_context() -> FakeContext:
    return FakeContext()


@pytest.fixture(autouse=True)
def _reset_metrics():
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()
