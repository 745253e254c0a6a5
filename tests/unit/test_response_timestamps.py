"""Response timestamps: the fast parser gives exactly botocore's datetimes, and the clients use it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.utils import parse_timestamp
from hypothesis import given
from hypothesis import strategies as st

from iam_inventory.assume.clients import ClientFactory
from iam_inventory.assume.timestamps import parse_response_timestamp
from iam_inventory.config.settings import Settings


@given(
    moment=st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30)),
    digits=st.integers(min_value=0, max_value=6),
)
def test_an_iso_utc_time_parses_to_botocores_datetime_to_the_repr(moment: datetime, digits: int) -> None:
    # Given a time as IAM writes it, to the second or with 1-6 fraction digits
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{moment.microsecond:06d}"[:digits]
    text += "Z"
    # When both parsers read it
    # Then the datetimes are the same, tzinfo included
    assert repr(parse_response_timestamp(text)) == repr(parse_timestamp(text))


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-03T16:30:00+01:00",  # an offset
        "2026-12-03T16:30:00.1234567Z",  # more digits than a datetime holds
        "2026-12-03 16:30:00Z",  # a space
        "1764779400",  # epoch seconds
        "Thu, 03 Dec 2026 16:30:00 GMT",  # RFC 822 (S3 headers)
        "2026-02-30T16:30:00Z",  # no such day
        "2026-12-03T24:00:00Z",  # no such hour
    ],
)
def test_any_other_shape_is_botocores_to_decide(text: str) -> None:
    # Given a timestamp the fast path does not read
    # When both parsers read it
    # Then they agree, value or error
    try:
        expected: object = repr(parse_timestamp(text))
    except ValueError as error:
        expected = type(error)
    try:
        found: object = repr(parse_response_timestamp(text))
    except ValueError as error:
        found = type(error)
    assert found == expected


def test_every_client_of_the_factory_parses_timestamps_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the factory's hub and account clients
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAHUBHUBHUBHUBHUB0")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hub-secret")
    factory = ClientFactory(Settings.from_env({"ACCOUNT_IDS": "111111111111", "AWS_REGION": "us-east-1"}))
    for client in (factory.hub_client("sts"), factory.account_client("iam")):
        # Then their response parser is the fast one
        parser = client._endpoint._response_parser_factory.create_parser("query")
        assert parser._timestamp_parser is parse_response_timestamp
    assert parse_response_timestamp("2026-12-03T16:30:00Z") == datetime(2026, 12, 3, 16, 30, tzinfo=UTC)
