"""Events: the samples validate; malformed events fail with the field named."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iam_inventory.config.events import InvalidEvent, RunRequest
from iam_inventory.models import Thresholds

EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.mark.parametrize("path", sorted(EVENTS.glob("*.json")), ids=lambda p: p.name)
def test_every_sample_event_is_valid(path):
    RunRequest.from_event(json.loads(path.read_text()))


def test_scheduled_event_derives_a_deterministic_run_id():
    request = RunRequest.from_event({"source": "schedule", "scheduled_time": "2026-11-23T06:00:00Z"})
    first = request.resolve_run_id(datetime(2026, 11, 23, 6, 0, 3, tzinfo=UTC), "req-1")
    retry = request.resolve_run_id(datetime(2026, 11, 23, 6, 3, 0, tzinfo=UTC), "req-2")
    assert first == retry == "20261123T060000Z-scheduled"


def test_manual_run_id_follows_the_lambda_request_id_so_retries_reuse_it():
    request = RunRequest.from_event({})
    assert request.resolve_run_id(datetime(2026, 1, 1, tzinfo=UTC), "abc-123") == "manual-abc-123"


def test_threshold_overrides_apply_over_configuration():
    request = RunRequest.from_event({"thresholds": {"max_key_age_days": 60}})
    assert request.thresholds.apply(Thresholds()) == Thresholds(60, 45, 7)


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"accounts": ["12345678901"]}, "accounts.0"),
        ({"accounts": ["111111111111", "abcdefghijkl"]}, "accounts.1"),
        ({"accounts": [111111111111]}, "accounts.0"),
        ({"accounts": []}, "accounts"),
        ({"dry_run": "yes"}, "dry_run"),
        ({"dry_run": 1}, "dry_run"),
        ({"source": "cron"}, "source"),
        ({"unknown": True}, "unknown"),
        ({"thresholds": {"max_key_age_days": "90"}}, "thresholds.max_key_age_days"),
        ({"thresholds": {"max_age": 90}}, "thresholds.max_age"),
        ({"thresholds": {"unused_key_days": 0}}, "thresholds.unused_key_days"),
        ({"scheduled_time": "yesterday"}, "scheduled_time"),
        ({"run_id": "../../etc"}, "run_id"),
        ({"baseline": "true"}, "baseline"),
        ({"baseline": 1}, "baseline"),
        ({"baseline": True, "accounts": ["111111111111"]}, "baseline"),
        ({"baseline": True, "thresholds": {"max_key_age_days": 30}}, "baseline"),
    ],
)
def test_invalid_event_names_the_field(event, field):
    with pytest.raises(InvalidEvent) as caught:
        RunRequest.from_event(event)
    assert f"event {field}:" in str(caught.value)


@pytest.mark.parametrize("event", [[], "run", 42])
def test_event_must_be_an_object(event):
    with pytest.raises(InvalidEvent, match="must be a JSON object"):
        RunRequest.from_event(event)


def test_threshold_overrides_that_contradict_are_refused():
    request = RunRequest.from_event({"thresholds": {"max_key_age_days": 5}})
    with pytest.raises(InvalidEvent, match="never_used_grace_days"):
        request.thresholds.apply(Thresholds())


def test_baseline_and_overrides_are_read_from_the_event():
    assert RunRequest.from_event({"baseline": True}).baseline is True
    assert RunRequest.from_event({}).baseline is False
    overriding = RunRequest.from_event({"accounts": ["111111111111"], "thresholds": {"unused_key_days": 10}})
    assert overriding.overrides == ("accounts", "thresholds")
    assert RunRequest.from_event({"source": "schedule"}).overrides == ()
