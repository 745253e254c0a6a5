"""Shared fixtures: a fixed clock, a fake Lambda context, and builders of hand-made inventories."""

from __future__ import annotations

from datetime import datetime

import pytest

from iam_inventory.core.observability import metrics
from iam_inventory_cli.invoke_command import FakeLambdaContext
from tests.builders import NOW


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext(aws_request_id="5f0c8a3e-1111-2222-3333-444455556666")


@pytest.fixture(autouse=True)
def _reset_metrics():
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()
