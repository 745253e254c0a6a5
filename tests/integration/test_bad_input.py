"""Bad input through the real handler: rejected before any AWS request, so nothing is ever half-written."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iam_inventory.config.events import InvalidEvent
from iam_inventory.config.settings import ConfigError
from iam_inventory.entrypoints import handlers as handler
from tests.integration.conftest import list_s3_keys
from tests.unit.test_bad_input_properties import (
    EVENT_FIELDS,
    INVALID_ENV_VALUES,
    INVALID_EVENT_VALUES,
    VALID_EVENT,
)

# The simulator fixture is per test, not per example: each example checks its own request count.
THROUGH_HANDLER = settings(
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def configured(simulator, report_bucket, monkeypatch):
    monkeypatch.setenv("ACCOUNT_IDS", "111111111111")
    monkeypatch.setenv("EXTERNAL_ID", "bad-input-external-id")
    monkeypatch.setenv("REPORT_BUCKET", report_bucket)
    return simulator


def requests_so_far(simulator) -> int:
    return sum(simulator.faults.operations.values())


@THROUGH_HANDLER
@given(data=st.data(), field=st.sampled_from(EVENT_FIELDS))
def test_malformed_event_is_rejected_before_any_aws_request(
    configured, report_bucket, lambda_context, data, field
):
    # Given a valid event with one field made invalid
    event = {**VALID_EVENT, field: data.draw(INVALID_EVENT_VALUES[field], label=field)}
    before = requests_so_far(configured)
    # When the handler gets it / Then it raises InvalidEvent naming the field
    with pytest.raises(InvalidEvent) as raised:
        handler.lambda_handler(event, lambda_context)
    assert field in str(raised.value)
    # And no AWS request was made at all: no STS, no IAM, no S3 write
    assert requests_so_far(configured) == before
    keys = list_s3_keys(report_bucket)
    assert keys == [], (event, keys)


@THROUGH_HANDLER
@given(data=st.data(), name=st.sampled_from(sorted(INVALID_ENV_VALUES)))
def test_bad_configuration_is_rejected_before_any_aws_request(
    configured, report_bucket, lambda_context, monkeypatch, data, name
):
    # Given a deployment with one invalid variable
    value = data.draw(INVALID_ENV_VALUES[name], label=name)
    before = requests_so_far(configured)
    with monkeypatch.context() as env:
        env.setenv(name, value)
        # When the handler runs / Then ConfigError names the variable
        with pytest.raises(ConfigError) as raised:
            handler.lambda_handler({"dry_run": False}, lambda_context)
    assert name in str(raised.value)
    # And nothing was requested or written
    assert requests_so_far(configured) == before
    assert list_s3_keys(report_bucket) == []


POINTER = {
    "run_id": "r1",
    "bucket": "iam-inventory-test-reports",
    "folder": "runs/dt=2026-11-23/r1",
    "items_key": "iam-inventory/runs/dt=2026-11-23/r1/items.json",
    "accounts": 1,
}
ACCOUNT = {"account_id": "111111111111", "name": "prod"}


def without(mapping: dict, name: str) -> dict:
    return {key: value for key, value in mapping.items() if key != name}


@pytest.mark.parametrize(
    ("step", "event", "named"),
    [
        ("worker_handler", {"account": ACCOUNT}, "event run"),
        ("worker_handler", {"account": ACCOUNT, "run": {**POINTER, "bucket": ""}}, "event run.bucket"),
        ("worker_handler", {"account": ACCOUNT, "run": {**POINTER, "run_id": "../x"}}, "event run.run_id"),
        ("worker_handler", {"account": ACCOUNT, "run": POINTER, "extra": 1}, "event extra"),
        (
            "finalize_handler",
            {"run": {k: v for k, v in POINTER.items() if k != "folder"}},
            "event run.folder",
        ),
        ("finalize_handler", {"run": POINTER, "map_error": "boom"}, "event map_error"),
        ("finalize_handler", ["not", "an", "object"], "must be a JSON object"),
    ],
)
def test_a_malformed_fanout_step_event_is_one_clear_error_before_any_aws_request(
    configured, lambda_context, step, event, named
):
    # Given a fan-out step's input that the state machine would never build (a hand-started step)
    before = requests_so_far(configured)
    # When the step's handler gets it / Then it raises InvalidEvent, one line naming the field
    with pytest.raises(InvalidEvent) as raised:
        getattr(handler, step)(event, lambda_context)
    assert named in str(raised.value)
    assert "\n" not in str(raised.value)
    # And no AWS request was made
    assert requests_so_far(configured) == before
