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
