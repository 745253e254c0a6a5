"""Events: the samples validate; malformed events fail with the field named."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from iam_inventory.config.events import InvalidEvent, RunRequest
from iam_inventory.models import Thresholds
from tests.builders import NOW

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


def test_missing_event_is_a_manual_run_with_the_defaults():
    # Given an invocation with no payload at all (the console's "Test" with an empty event)
    request = RunRequest.from_event(None)
    assert request == RunRequest(source="manual", run_id=None, accounts=None, thresholds=None, dry_run=False)


def test_non_object_event_names_its_type():
    with pytest.raises(InvalidEvent) as caught:
        RunRequest.from_event(["111111111111"])
    assert str(caught.value) == "event: must be a JSON object, got list"


def test_each_threshold_override_replaces_only_its_own_value():
    base = Thresholds(max_key_age_days=120, unused_key_days=60, never_used_grace_days=10)
    unused = RunRequest.from_event({"thresholds": {"unused_key_days": 30}}).thresholds
    grace = RunRequest.from_event({"thresholds": {"never_used_grace_days": 0}}).thresholds
    assert unused.apply(base) == Thresholds(120, 30, 10)
    # 0 is a real override (no grace at all), not "unset"
    assert grace.apply(base) == Thresholds(120, 60, 0)


def test_contradicting_overrides_get_one_clear_line():
    request = RunRequest.from_event({"thresholds": {"max_key_age_days": 5}})
    with pytest.raises(InvalidEvent) as caught:
        request.thresholds.apply(Thresholds())
    assert (
        str(caught.value) == "event.thresholds: never_used_grace_days must be smaller than max_key_age_days"
    )


@pytest.fixture
def tokyo_machine(monkeypatch):
    """The process's local time zone is UTC+9, as on an engineer's laptop running the CLI."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_run_ids_are_utc_whatever_the_machine_time_zone(tokyo_machine):
    plus_two = timezone(timedelta(hours=2))
    scheduled = RunRequest(source="schedule", scheduled_time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=plus_two))
    # Given a scheduled time and a `now` in UTC+2, and no usable request id for the manual run
    assert scheduled.resolve_run_id(NOW, "req-1") == "20260102T010405Z-scheduled"
    assert RunRequest().resolve_run_id(datetime(2026, 1, 2, 3, 4, 5, tzinfo=plus_two), "") == (
        "20260102T010405Z-manual"
    )


def test_manual_run_id_keeps_forty_safe_characters_of_the_request_id():
    request_id = "0123456789-abcdefghij-ABCDEFGHIJ-klmnopqrst-uvwxyz/../!"
    run_id = RunRequest().resolve_run_id(NOW, request_id)
    assert run_id == "manual-0123456789-abcdefghij-ABCDEFGHIJ-klmnopq"
    assert len(run_id) == len("manual-") + 40
