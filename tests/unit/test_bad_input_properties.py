"""Property tests: every malformed event or configuration ends in a validation error naming the field."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from iam_inventory.config.events import RUN_ID_PATTERN, InvalidEvent, RunRequest
from iam_inventory.config.settings import ConfigError, Settings
from tests.builders import NOW

# Fixed seed (derandomize) and bounded examples: the same inputs on every machine, in seconds.
PROPERTY = settings(
    derandomize=True, max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
EVENT_FIELDS = ("source", "run_id", "scheduled_time", "accounts", "thresholds", "dry_run")
THRESHOLD_FIELDS = ("max_key_age_days", "unused_key_days", "never_used_grace_days")
VALID_EVENT = {
    "source": "manual",
    "run_id": "run-1",
    "scheduled_time": "2026-11-23T06:00:00Z",
    "accounts": ["111111111111", "222222222222"],
    "thresholds": {"max_key_age_days": 90, "unused_key_days": 45, "never_used_grace_days": 7},
    "dry_run": False,
}

# None is a valid "not set" for the optional fields, so it is added only where it is invalid.
not_a_string = st.booleans() | st.integers() | st.lists(st.text(max_size=3), max_size=2)
not_an_int = (
    st.none() | st.text(max_size=5) | st.floats(allow_nan=False) | st.booleans() | st.lists(st.integers())
)
bad_account_id = st.text(max_size=14).filter(
    lambda value: not (len(value) == 12 and value.isascii() and value.isdigit())
)

INVALID_EVENT_VALUES = {
    "source": st.none()
    | not_a_string
    | st.text(max_size=12).filter(lambda value: value not in {"schedule", "manual"}),
    "run_id": not_a_string
    | st.just("")
    | st.text(alphabet="-._/ $", min_size=1, max_size=5)
    | st.text(alphabet=string.ascii_letters, min_size=81, max_size=90),
    "scheduled_time": st.integers()
    | st.booleans()
    | st.text(alphabet=string.ascii_letters + " /", min_size=1, max_size=20)
    | st.sampled_from(["2026-13-01T00:00:00Z", "2026-11-23T25:00:00Z", "0001-01-01T00:00:00+01:00"]),
    "accounts": st.just([])
    | st.text(max_size=12)
    | st.integers()
    | st.lists(bad_account_id, min_size=1, max_size=3).map(lambda bad: ["111111111111", *bad])
    | st.lists(st.integers(min_value=10**11, max_value=10**12 - 1), min_size=1, max_size=2),
    "thresholds": not_a_string
    | st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda key: key not in THRESHOLD_FIELDS),
        st.integers(),
        min_size=1,
        max_size=2,
    )
    | st.fixed_dictionaries(
        {"max_key_age_days": st.integers(max_value=0) | st.integers(min_value=3651) | not_an_int}
    )
    | st.fixed_dictionaries({"unused_key_days": st.integers(max_value=0) | not_an_int})
    | st.fixed_dictionaries(
        {"never_used_grace_days": st.integers(max_value=-1) | st.integers(min_value=3651)}
    )
    | st.fixed_dictionaries(
        {"max_key_age_days": st.integers(1, 50), "never_used_grace_days": st.integers(50, 3650)}
    ),
    "dry_run": st.none() | st.integers() | st.text(max_size=5) | st.lists(st.booleans(), max_size=2),
}


def validate_event(event: object) -> RunRequest:
    """What the handler does with an event before any AWS call: parse it, settle run id and thresholds."""
    request = RunRequest.from_event(event)
    request.resolve_run_id(NOW, "5f0c8a3e-1111")
    if request.thresholds is not None:
        request.thresholds.apply(Settings.from_env({"ACCOUNT_IDS": "111111111111"}).thresholds)
    return request


@PROPERTY
@given(
    event=json_values | st.dictionaries(st.sampled_from([*EVENT_FIELDS, "extra"]), json_values, max_size=6)
)
@example(event={"scheduled_time": "9999-12-31T23:59:59-01:00"})
@example(event=[])
@example(event="{}")
def test_any_json_event_is_accepted_or_rejected_with_invalid_event(event):
    # Given any JSON value as the event
    # When it is validated
    request, error = None, None
    try:
        request = validate_event(event)
    except InvalidEvent as rejected:  # anything else propagates and fails the test
        error = str(rejected)
    # Then a rejection is an InvalidEvent that names where the problem is
    if error is not None:
        assert error.startswith(("invalid event: event", "event"))
    # Or an accepted event resolves to a run id of the documented shape
    else:
        assert re.match(RUN_ID_PATTERN, request.resolve_run_id(NOW, "5f0c8a3e-1111"))


@PROPERTY
@given(data=st.data(), field=st.sampled_from(EVENT_FIELDS))
def test_one_bad_field_is_named_in_the_error(data, field):
    # Given a valid event with one field replaced by an invalid value
    event = {**VALID_EVENT, field: data.draw(INVALID_EVENT_VALUES[field], label=field)}
    # When / Then the event is rejected by an InvalidEvent naming that field, and nothing else
    with pytest.raises(InvalidEvent) as raised:
        validate_event(event)
    assert f"event {field}" in str(raised.value) or f"event.{field}" in str(raised.value)


@PROPERTY
@given(key=st.text(min_size=1, max_size=20).filter(lambda key: key not in EVENT_FIELDS), value=json_values)
def test_unknown_event_key_is_named(key, value):
    with pytest.raises(InvalidEvent) as raised:
        RunRequest.from_event({**VALID_EVENT, key: value})
    assert f"event {key}: Extra inputs are not permitted" in str(raised.value)


def test_valid_event_is_valid():
    # Guards the properties above: the base event they corrupt must itself pass.
    assert validate_event(VALID_EVENT).run_id == "run-1"


VALID_ENV = {"ACCOUNT_IDS": "111111111111,222222222222", "REPORT_BUCKET": "iam-inventory-reports"}
numbers_text = st.integers(-(10**6), 10**6).map(str) | st.floats(allow_nan=True).map(str)
INVALID_ENV_VALUES = {
    "ACCOUNT_SOURCE": st.text(min_size=1, max_size=15).filter(
        lambda v: v.strip() and v not in {"static", "organizations"}
    ),
    "ACCOUNT_IDS": st.lists(
        bad_account_id.filter(
            lambda v: v.strip(" ,\t\n") == v and v and "," not in v and not any(c.isspace() for c in v)
        ),
        min_size=1,
        max_size=3,
    ).map(",".join),
    "ROLE_NAME": st.text(alphabet="/ #!*?%", min_size=1, max_size=3).map(lambda bad: f"role{bad}")
    | st.text(alphabet=string.ascii_letters, min_size=65, max_size=70),
    "ROLE_PATH": st.sampled_from(["role", "/a//b/", "/no-trailing-slash", "//", "/sp ace/"]),
    "EXTERNAL_ID": st.text(alphabet=" #!*?%\"'", min_size=2, max_size=8).map(lambda bad: f"secret{bad}"),
    "REPORT_BUCKET": st.sampled_from(["Upper-Case", "a", "-leading-dash", "under_score", "x" * 64]),
    "MAX_KEY_AGE_DAYS": st.sampled_from(["0", "-1", "3651", "ninety", "9.5", ""]).filter(bool),
    "UNUSED_KEY_DAYS": st.integers(max_value=0).map(str) | st.integers(min_value=3651).map(str),
    "NEVER_USED_GRACE_DAYS": st.integers(max_value=-1).map(str) | st.integers(min_value=90).map(str),
    "WORKERS": st.integers(max_value=-1).map(str) | st.integers(min_value=65).map(str) | st.just("many"),
    "RETRY_MODE": st.sampled_from(["legacy", "STANDARD", "fast", "0"]),
    "MAX_ATTEMPTS": st.integers(max_value=0).map(str) | st.integers(min_value=21).map(str),
    "CONNECT_TIMEOUT_SECONDS": st.floats(max_value=0).map(str)
    | st.floats(min_value=60.001).map(str)
    | st.just("nan"),
    "READ_TIMEOUT_SECONDS": st.sampled_from(["0", "-1", "301", "soon", "nan", "inf"]),
    "AWS_REGION": st.sampled_from(["US-EAST-1", "us_east_1", "useast1", "us-east", "mars"]),
}


@PROPERTY
@given(data=st.data(), name=st.sampled_from(sorted(INVALID_ENV_VALUES)))
def test_one_bad_variable_is_named_and_secrets_are_not_echoed(data, name):
    # Given a valid environment with one variable set to an invalid value
    value = data.draw(INVALID_ENV_VALUES[name], label=name)
    # When / Then Settings refuses it with a ConfigError naming the variable
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({**VALID_ENV, name: value})
    assert f"environment variable {name}" in str(raised.value) or (
        name == "NEVER_USED_GRACE_DAYS" and "NEVER_USED_GRACE_DAYS must be smaller" in str(raised.value)
    )
    # And the ExternalId, a secret, is never echoed back
    if name == "EXTERNAL_ID":
        assert value not in str(raised.value)


@PROPERTY
@given(
    env=st.dictionaries(
        st.sampled_from(
            [
                *sorted(INVALID_ENV_VALUES),
                "ACCOUNT_IDS_PARAMETER",
                "EXTERNAL_ID_PARAMETER",
                "AWS_LAMBDA_FUNCTION_NAME",
                "UNRELATED",
            ]
        ),
        st.text(max_size=20) | numbers_text,
        max_size=8,
    )
)
def test_any_environment_builds_settings_or_a_config_error(env):
    # Given any strings in any of the variables
    # When / Then the result is Settings or a ConfigError naming a variable, never another exception
    error = None
    try:
        Settings.from_env(env)
    except ConfigError as rejected:  # anything else propagates and fails the test
        error = str(rejected)
    assert error is None or error.startswith("invalid configuration: environment variable")


def test_valid_environment_is_valid():
    assert Settings.from_env(VALID_ENV).account_ids == ("111111111111", "222222222222")
