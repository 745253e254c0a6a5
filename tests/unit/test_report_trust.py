"""When the credential report is trusted: freshness by STARTED and GeneratedTime, and rows that parse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from iam_inventory.collect.credential_report import (
    CLOCK_SKEW,
    ReportUnavailable,
    ReportUnparseable,
    fetch_credential_report,
    is_fresh,
    parse_credential_report,
)
from iam_inventory.core.budget import Deadline
from tests.builders import NOW
from tests.fakes import FakeTime
from tests.unit.test_credential_report_pinned import GENERATED, HEADER, row


def test_the_clock_skew_allowed_is_five_minutes():
    assert timedelta(minutes=5) == CLOCK_SKEW


@pytest.mark.parametrize(
    ("state", "generated", "started", "fresh"),
    [
        ("STARTED", NOW, NOW, True),
        ("STARTED", NOW - CLOCK_SKEW, NOW, True),
        ("STARTED", NOW - CLOCK_SKEW - timedelta(seconds=1), NOW, False),
        ("STARTED", NOW - timedelta(hours=3), NOW, False),
        ("STARTED", (NOW - CLOCK_SKEW).replace(tzinfo=None), NOW, True),  # a naive time is UTC
        ("STARTED", (NOW - timedelta(minutes=6)).replace(tzinfo=None), NOW, False),
        # another offset is that instant: 04:00-02:00 is the run's start, not two hours before it
        ("STARTED", NOW.astimezone(timezone(timedelta(hours=-2))), NOW, True),
        ("STARTED", NOW - timedelta(hours=3), None, True),  # no run start given: STARTED alone
        ("COMPLETE", NOW, NOW, False),
        ("INPROGRESS", NOW, NOW, False),
        (None, NOW, None, False),
    ],
)
def test_a_report_is_this_runs_only_when_started_and_dated_since_the_run_began(
    state, generated, started, fresh
):
    assert is_fresh(state, generated, started) is fresh


class OneReport:
    """GenerateCredentialReport answers `state`; GetCredentialReport serves `content` dated `generated`."""

    def __init__(self, state: str, generated: datetime, content: bytes | None = None) -> None:
        self.state, self.generated = state, generated
        self.content = content if content is not None else f"{HEADER}\n{row('alice')}\n".encode()

    def generate_credential_report(self) -> dict:
        return {"State": self.state}

    def get_credential_report(self) -> dict:
        return {"Content": self.content, "GeneratedTime": self.generated}


@pytest.mark.parametrize(
    ("state", "generated", "by_run"),
    [
        ("STARTED", NOW + timedelta(seconds=5), True),
        ("STARTED", NOW - timedelta(hours=1), False),
        ("COMPLETE", NOW, False),
    ],
)
def test_fetch_judges_freshness_against_the_runs_start(state, generated, by_run):
    report = fetch_credential_report(
        OneReport(state, generated), Deadline.after(60, FakeTime().clock), run_started_at=NOW
    )
    assert report.generated_by_run is by_run
    assert report.generated_at == generated


def test_fetch_says_why_a_served_report_does_not_parse():
    with pytest.raises(ReportUnparseable) as caught:
        fetch_credential_report(OneReport("STARTED", NOW, b"\xff"), Deadline.after(60), run_started_at=NOW)
    assert isinstance(caught.value, ReportUnavailable)
    assert caught.value.reason.startswith("credential report does not parse: ")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\xffuser,arn\n", "credential report does not parse: 'utf-8' codec can't decode byte 0xff"),
        ("", "credential report has no user and arn columns"),
        ("user,password_enabled\nbob,true\n", "credential report has no user and arn columns"),
        ("arn,password_enabled\nx,true\n", "credential report has no user and arn columns"),
        (f"{HEADER}\n{row('smith,john')}\n", "credential report line 2 has more fields than its header"),
        (
            f"{HEADER}\n{row('alice')}\n{row('x,y')}\n",
            "credential report line 3 has more fields than its header",
        ),
        ("user,arn\n,arn:aws:iam::111111111111:user/x\n", "credential report line 2 has no user or arn"),
        ("user,arn\nbob,\n", "credential report line 2 has no user or arn"),
        ("user,arn\nbob\n", "credential report line 2 has no user or arn"),
        (
            "user,arn,user_creation_time\nbob,arn:aws:iam::111111111111:user/bob,yesterday\n",
            "credential report line 2 does not parse: Invalid isoformat string: 'yesterday'",
        ),
    ],
    ids=[
        "bytes",
        "empty",
        "no arn",
        "no user",
        "comma",
        "comma later",
        "blank user",
        "blank arn",
        "short",
        "date",
    ],
)
def test_a_report_that_does_not_parse_says_where_and_why(content, reason):
    with pytest.raises(ReportUnparseable) as caught:
        parse_credential_report(content, GENERATED)
    assert caught.value.reason.startswith(reason)


def test_a_row_short_of_trailing_columns_still_parses():
    # Given a row without its last two columns (cert_2_active, cert_2_last_rotated), as moto writes it
    line = row("alice").rsplit(",", 2)[0]
    # When parsed, its columns stay in place and the missing ones read as no value
    (alice,) = parse_credential_report(f"{HEADER}\n{line}\n", GENERATED).users
    assert (alice.user_name, alice.arn) == ("alice", "arn:aws:iam::111111111111:user/alice")
    assert alice.created_at == datetime(2024, 1, 1, tzinfo=UTC)
