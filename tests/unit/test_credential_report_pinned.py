"""The credential report path pinned value by value: timestamps, key slots, polling and the path chosen."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from iam_inventory.collect import credential_report
from iam_inventory.collect.credential_report import (
    Collected,
    ReportKey,
    ReportUnavailable,
    call_patiently,
    client_error_code,
    collect_account_auto,
    collect_account_from_report,
    fetch_credential_report,
    parse_credential_report,
    parse_report_time,
)
from iam_inventory.core.budget import Deadline
from iam_inventory.models import AccessKey, AccountInventory, CollectionPath, IamUser, KeyLastUse
from tests.builders import NOW
from tests.fakes import FakeTime

GENERATED = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,mfa_active,"
    "access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,"
    "access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service"
)


NO_KEY = "false,N/A,N/A,N/A,N/A"


def row(
    user: str, *, password: str = "false", mfa: str = "false", key1: str = NO_KEY, key2: str = NO_KEY
) -> str:
    """One report row: created 2024-01-01, password never used, the two key slots as given."""
    arn = f"arn:aws:iam::111111111111:user/{user}"
    return f"{user},{arn},2024-01-01T00:00:00Z,{password},N/A,{mfa},{key1},{key2}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T08:00:00+00:00", datetime(2026, 11, 20, 8, tzinfo=UTC)),
        # the Z suffix, and surrounding spaces
        (" 2026-11-20T08:00:00Z ", datetime(2026, 11, 20, 8, tzinfo=UTC)),
        # another offset is kept as that instant
        ("2026-11-20T10:00:00+02:00", datetime(2026, 11, 20, 8, tzinfo=UTC)),
        # no offset at all: the report is in UTC
        ("2026-11-20T08:00:00", datetime(2026, 11, 20, 8, tzinfo=UTC)),
        ("N/A", None),
        ("no_information", None),
        ("not_supported", None),
        ("", None),
        (None, None),
    ],
)
def test_report_timestamps_are_aware_utc_or_none(text, expected):
    assert parse_report_time(text) == expected


def test_report_timestamp_without_offset_is_utc_not_naive():
    parsed = parse_report_time("2026-11-20T08:00:00")
    assert parsed is not None
    assert parsed.tzinfo is UTC


def test_report_timestamp_with_offset_keeps_its_offset():
    parsed = parse_report_time("2026-11-20T10:00:00+02:00")
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(hours=2)


def test_user_creation_time_and_a_naive_generation_time_are_read_as_utc():
    # Given a report fetched with a generation time that carries no zone
    report = parse_credential_report(f"{HEADER}\n{row('alice')}\n".encode(), datetime(2026, 11, 23, 4))
    # Then both are aware UTC datetimes
    assert report.generated_at == GENERATED
    assert report.generated_at.tzinfo is UTC
    assert report.users[0].created_at == datetime(2024, 1, 1, tzinfo=UTC)


def test_report_generation_time_in_another_zone_is_kept():
    plus_one = timezone(timedelta(hours=1))
    report = parse_credential_report(
        f"{HEADER}\n{row('alice')}\n", datetime(2026, 11, 23, 5, tzinfo=plus_one)
    )
    assert report.generated_at.utcoffset() == timedelta(hours=1)


def test_a_key_in_the_second_slot_alone_is_read():
    # Given a user whose first key was deleted, leaving only the second slot filled
    key2 = "true,2026-06-01T00:00:00Z,2026-11-01T00:00:00Z,eu-west-1,iam"
    report = parse_credential_report(f"{HEADER}\n{row('alice', key2=key2)}\n", GENERATED)
    # Then that key is there, in slot 2
    assert report.users[0].keys == (
        ReportKey(
            2, True, datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC), "iam", "eu-west-1"
        ),
    )


def test_the_older_last_used_column_name_is_read():
    # Given a report whose last-use columns are named access_key_N_last_used (older reports, some tools)
    header = HEADER.replace("_last_used_date", "_last_used")
    key1 = "true,2026-06-01T00:00:00Z,2026-11-01T00:00:00Z,eu-west-1,iam"
    report = parse_credential_report(f"{header}\n{row('alice', key1=key1)}\n", GENERATED)
    assert report.users[0].keys[0].last_used_at == datetime(2026, 11, 1, tzinfo=UTC)


def client_error(code: str | None, operation: str = "GetCredentialReport") -> ClientError:
    error = {"Code": code, "Message": "m"} if code else {"Message": "m"}
    return ClientError({"Error": error}, operation)


def test_client_error_code_is_the_aws_code_or_empty():
    assert client_error_code(client_error("Throttling")) == "Throttling"
    assert client_error_code(client_error(None)) == ""
    assert client_error_code(ClientError({}, "GetCredentialReport")) == ""
    assert client_error_code(ValueError("Throttling")) is None


def test_report_unavailable_keeps_its_reason_for_the_run_summary():
    assert ReportUnavailable("credential report not permitted (AccessDenied)").reason == (
        "credential report not permitted (AccessDenied)"
    )


def test_throttled_calls_back_off_attempt_by_attempt():
    # Given a call throttled three times, and a delay that depends on the attempt number
    fake, attempts = FakeTime(), []
    answers = [client_error("Throttling")] * 3

    def call() -> str:
        if answers:
            raise answers.pop(0)
        return "done"

    def delay(attempt: int) -> float:
        attempts.append(attempt)
        return 0.1 * (attempt + 1)

    # When it is called patiently
    assert call_patiently(call, Deadline.after(60, fake.clock), fake.sleep, delay) == "done"
    # Then the attempts counted 0, 1, 2 and the waits grew with them
    assert attempts == [0, 1, 2]
    assert fake.slept == pytest.approx([0.1, 0.2, 0.3])


def test_throttling_is_not_waited_out_when_the_wait_would_use_all_the_time_left():
    # Given exactly 1 second left and a 1-second backoff
    fake = FakeTime()

    def call() -> str:
        raise client_error("Throttling")

    # Then the error surfaces instead of a wait that ends at the deadline
    with pytest.raises(ClientError, match="Throttling"):
        call_patiently(call, Deadline.after(1.0, fake.clock), fake.sleep, lambda attempt: 1.0)
    assert fake.slept == []


class ScriptedIam:
    """Credential-report calls answering from a script of error codes, then the report."""

    def __init__(self, get: list[str]) -> None:
        self.get_script = list(get)
        self.calls: list[str] = []

    def generate_credential_report(self) -> dict:
        self.calls.append("Generate")
        return {"State": "STARTED"}

    def get_credential_report(self) -> dict:
        self.calls.append("Get")
        if self.get_script:
            raise client_error(self.get_script.pop(0))
        return {"Content": f"{HEADER}\n{row('alice')}\n".encode(), "GeneratedTime": GENERATED}


def test_report_polling_backs_off_from_half_a_second_to_at_most_four(monkeypatch):
    # Given the backoff's jitter pinned to its upper bound, and a report that takes six polls
    class UpperBound:
        def uniform(self, low: float, high: float) -> float:
            return high

    monkeypatch.setattr("iam_inventory.core.budget.random.Random", UpperBound)
    iam, fake = ScriptedIam(["ReportInProgress"] * 6), FakeTime()
    # When it is fetched with the default delays
    fetch_credential_report(iam, Deadline.after(600, fake.clock), fake.sleep)
    # Then it waited 0.5 s, doubling, capped at 4 s, generating only once
    assert fake.slept == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert iam.calls == ["Generate"] + ["Get"] * 7


def test_report_polling_stops_when_the_wait_would_reach_the_deadline():
    # Given 2 seconds left and 2-second polls
    iam, fake = ScriptedIam(["ReportInProgress"] * 5), FakeTime()
    with pytest.raises(ReportUnavailable) as caught:
        fetch_credential_report(iam, Deadline.after(2.0, fake.clock), fake.sleep, lambda attempt: 2.0)
    # Then it gave up after the first poll, without sleeping into the deadline
    assert caught.value.reason == "credential report not ready in time (ReportInProgress)"
    assert fake.slept == []


def test_report_polling_counts_attempts():
    iam, fake, attempts = ScriptedIam(["ReportInProgress"] * 3), FakeTime(), []
    fetch_credential_report(
        iam, Deadline.after(60, fake.clock), fake.sleep, lambda attempt: attempts.append(attempt) or 1.0
    )
    assert attempts == [0, 1, 2]


class ListingIam:
    """ListAccessKeys, GetAccessKeyLastUsed and GetAccountSummary answers; each call's thread recorded."""

    class exceptions:
        class NoSuchEntityException(Exception):
            pass

    def __init__(
        self,
        keys: dict[str, list[dict]],
        last_used: dict | None = None,
        throttled: tuple[str, ...] = (),
        in_pairs: bool = False,
    ) -> None:
        self.keys = keys
        self.last_used = last_used or {}
        self.throttled = set(throttled)  # operations that answer Throttling once
        # ListAccessKeys calls wait for a partner: a pool of two runs them in pairs, and a pool that is
        # larger has to start more threads while two calls wait.
        self.pairs = threading.Barrier(2, timeout=5) if in_pairs else None
        self.calls: list[str] = []
        self.threads: set[str] = set()  # where ListAccessKeys ran
        self.lock = threading.Lock()

    def _call(self, operation: str) -> None:
        with self.lock:
            self.calls.append(operation)
            name = operation.split(":")[0]
            if name in self.throttled:
                self.throttled.discard(name)
                raise client_error("Throttling", name)

    def list_access_keys(self, UserName: str) -> dict:
        self._call(f"ListAccessKeys:{UserName}")
        self.threads.add(threading.current_thread().name)
        if self.pairs:
            self.pairs.wait()
        if UserName not in self.keys:
            raise self.exceptions.NoSuchEntityException(UserName)
        return {"AccessKeyMetadata": self.keys[UserName]}

    def get_access_key_last_used(self, AccessKeyId: str) -> dict:
        self._call(f"GetAccessKeyLastUsed:{AccessKeyId}")
        return {"AccessKeyLastUsed": self.last_used[AccessKeyId]}

    def get_account_summary(self) -> dict:
        self._call("GetAccountSummary")
        return {"SummaryMap": {"AccountAccessKeysPresent": 0, "AccountMFAEnabled": 1}}


KEY1 = "true,2026-01-10T12:00:00Z,2026-11-22T09:00:00Z,eu-west-1,s3"


def listed(key_id: str, created: datetime, status: str = "Active") -> dict:
    return {"AccessKeyId": key_id, "CreateDate": created, "Status": status}


def test_inventory_from_the_report_is_the_report_plus_listed_keys():
    # Given a report with a console user without MFA, a user deleted since, and a user with MFA but no
    # password; the first user also has a key created after the report
    rows = [
        row("alice", password="true", key1=KEY1).replace(",true,N/A,", ",true,2026-11-20T08:00:00Z,"),
        row("gone", key1=KEY1),
        row("bob", mfa="true"),
    ]
    report = parse_credential_report("\n".join([HEADER, *rows]), GENERATED)
    fresh = NOW - timedelta(hours=1)
    iam = ListingIam(
        {
            "alice": [
                listed("AKIAALICE1", datetime(2026, 1, 10, 12, tzinfo=UTC)),
                listed("AKIAFRESH1", fresh, "Inactive"),
            ]
        },
        last_used={"AKIAFRESH1": {"LastUsedDate": NOW, "ServiceName": "sts", "Region": "us-east-1"}},
    )
    # When the inventory is built
    inventory = collect_account_from_report(iam, "111111111111", NOW, report, 1, Deadline.unlimited())
    # Then every field comes from the report, the listing, or the API for the fresh key
    assert inventory == AccountInventory(
        account_id="111111111111",
        users=(
            IamUser(
                user_name="alice",
                user_id="",
                arn="arn:aws:iam::111111111111:user/alice",
                path="/",
                created_at=datetime(2024, 1, 1, tzinfo=UTC),
                console_access=True,
                password_last_used=datetime(2026, 11, 20, 8, tzinfo=UTC),
                mfa_enabled=False,
                access_keys=(
                    AccessKey(
                        "AKIAALICE1",
                        "Active",
                        datetime(2026, 1, 10, 12, tzinfo=UTC),
                        KeyLastUse(datetime(2026, 11, 22, 9, tzinfo=UTC), "s3", "eu-west-1"),
                    ),
                    AccessKey("AKIAFRESH1", "Inactive", fresh, KeyLastUse(NOW, "sts", "us-east-1")),
                ),
            ),
            IamUser(
                user_name="bob",
                user_id="",
                arn="arn:aws:iam::111111111111:user/bob",
                path="/",
                created_at=datetime(2024, 1, 1, tzinfo=UTC),
                console_access=False,
                password_last_used=None,
                # MFA without a password does not count: it cannot protect a console sign-in
                mfa_enabled=False,
                access_keys=(),
            ),
        ),
        root_access_keys_present=False,
        root_mfa_enabled=True,
        collected_at=NOW,
    )
    assert iam.calls == [
        "ListAccessKeys:alice",
        "ListAccessKeys:gone",
        "GetAccessKeyLastUsed:AKIAFRESH1",
        "GetAccountSummary",  # no root row in this report
    ]


def test_console_user_with_mfa_keeps_it_and_a_missing_creation_time_is_the_report_time():
    line = row("carol", password="true", mfa="true").replace("2024-01-01T00:00:00Z", "N/A")
    report = parse_credential_report(f"{HEADER}\n{line}\n", GENERATED)
    inventory = collect_account_from_report(
        ListingIam({}), "111111111111", NOW, report, 1, Deadline.unlimited()
    )
    (carol,) = inventory.users
    assert (carol.mfa_enabled, carol.created_at, carol.password_last_used) == (True, GENERATED, None)


@pytest.fixture
def no_backoff(monkeypatch):
    """call_patiently's default backoff made instant (the waits themselves are pinned above)."""
    monkeypatch.setattr(credential_report, "backoff_delays", lambda **_: lambda attempt: 0.0)


def test_every_call_of_the_report_path_is_patient_with_throttling(no_backoff):
    # Given a report without a root row, a key newer than the report, and each call throttled once
    report = parse_credential_report(f"{HEADER}\n{row('alice', key1=KEY1)}\n", GENERATED)
    fresh = NOW - timedelta(hours=1)
    iam = ListingIam(
        {"alice": [listed("AKIAFRESH1", fresh)]},
        last_used={"AKIAFRESH1": {}},
        throttled=("ListAccessKeys", "GetAccessKeyLastUsed", "GetAccountSummary"),
    )
    # When the inventory is built with time to spare
    inventory = collect_account_from_report(iam, "111111111111", NOW, report, 1, Deadline.after(60))
    # Then each call was made again, and the account is complete
    assert iam.calls == [
        "ListAccessKeys:alice",
        "ListAccessKeys:alice",
        "GetAccessKeyLastUsed:AKIAFRESH1",
        "GetAccessKeyLastUsed:AKIAFRESH1",
        "GetAccountSummary",
        "GetAccountSummary",
    ]
    assert [key.access_key_id for key in inventory.users[0].access_keys] == ["AKIAFRESH1"]
    assert (inventory.root_access_keys_present, inventory.root_mfa_enabled) == (False, True)


@pytest.mark.parametrize(
    ("users_with_keys", "concurrency", "threads"),
    [
        (2, 2, {"keys_0", "keys_1"}),
        (6, 2, {"keys_0", "keys_1"}),
        (3, 1, {"MainThread"}),
        (1, 4, {"MainThread"}),
    ],
)
def test_keys_are_listed_in_a_pool_of_account_concurrency_threads(users_with_keys, concurrency, threads):
    # Given users with keys; IAM throttles per account, so at most `concurrency` calls at a time
    rows = [row(f"user{n}", key1=KEY1) for n in range(users_with_keys)]
    report = parse_credential_report("\n".join([HEADER, *rows]), GENERATED)
    keys = {f"user{n}": [listed(f"AKIAUSER{n}", datetime(2026, 1, 10, 12, tzinfo=UTC))] for n in range(6)}
    iam = ListingIam(keys, in_pairs=threads != {"MainThread"})
    # When the inventory is built
    inventory = collect_account_from_report(
        iam, "111111111111", NOW, report, concurrency, Deadline.unlimited()
    )
    # Then a single listing runs inline, several share a pool of at most `concurrency` threads
    assert iam.threads <= threads
    if threads != {"MainThread"}:
        assert iam.threads & threads
    assert [user.access_keys[0].access_key_id for user in inventory.users] == [
        f"AKIAUSER{n}" for n in range(users_with_keys)
    ]


IAM = object()  # the account's IAM client, as the collection paths must receive it


@pytest.fixture
def paths(monkeypatch):
    """Both collection paths replaced by recorders; the report path's fetch answers from `outcome`."""
    seen: dict[str, object] = {}
    outcome: dict[str, object] = {"report": None}

    def api(iam, account_id, now, concurrency):
        seen["api"] = (account_id, now, concurrency)
        assert iam is IAM
        return AccountInventory(account_id, (), False, True, now)

    def fetch(iam, deadline):
        assert iam is IAM
        seen["report_wait"] = deadline.remaining()
        if isinstance(outcome["report"], ReportUnavailable):
            raise outcome["report"]
        return outcome["report"]

    def from_report(iam, account_id, now, report, concurrency, deadline):
        assert iam is IAM
        seen["report"] = (account_id, now, report, concurrency, deadline.remaining() > 500)
        return AccountInventory(account_id, (), True, False, now)

    monkeypatch.setattr(credential_report, "collect_account", api)
    monkeypatch.setattr(credential_report, "fetch_credential_report", fetch)
    monkeypatch.setattr(credential_report, "collect_account_from_report", from_report)
    return seen, outcome


def test_auto_uses_the_report_and_says_so(paths):
    seen, outcome = paths
    outcome["report"] = parse_credential_report(HEADER, GENERATED)
    # When an account is collected with the report allowed, 600 s left and the default report wait (60 s)
    collected = collect_account_auto(IAM, "111111111111", NOW, True, 3, Deadline.after(600))
    # Then the report path built it, and the result says which path and how old the report was
    assert collected == Collected(
        AccountInventory("111111111111", (), True, False, NOW), CollectionPath.CREDENTIAL_REPORT, GENERATED
    )
    # (the inventory itself may use the account's whole deadline, not only the report wait)
    assert seen["report"] == ("111111111111", NOW, outcome["report"], 3, True)
    assert 59.0 < seen["report_wait"] <= 60.0


def test_auto_falls_back_to_the_api_and_gives_the_reason(paths):
    seen, outcome = paths
    outcome["report"] = ReportUnavailable("credential report not permitted (AccessDenied)")
    collected = collect_account_auto(IAM, "111111111111", NOW, True, 3, Deadline.after(600), 900.0)
    assert collected == Collected(
        AccountInventory("111111111111", (), False, True, NOW),
        CollectionPath.API,
        fallback_reason="credential report not permitted (AccessDenied)",
    )
    assert seen["api"] == ("111111111111", NOW, 3)
    # the report wait is bounded by the account's own deadline too
    assert 599.0 < seen["report_wait"] <= 600.0


def test_api_mode_never_asks_for_the_report(paths):
    seen, _ = paths
    collected = collect_account_auto(IAM, "111111111111", NOW, False, 2, Deadline.unlimited())
    assert collected == Collected(AccountInventory("111111111111", (), False, True, NOW), CollectionPath.API)
    assert seen == {"api": ("111111111111", NOW, 2)}


@pytest.mark.parametrize("use_report", [False, True], ids=["api mode", "fallback"])
def test_api_path_is_patient_with_throttling(monkeypatch, no_backoff, use_report):
    # Given an API collection throttled once (in API mode, or after the report was refused)
    answers = [client_error("Throttling", "ListUsers")]

    def api(iam, account_id, now, concurrency):
        if answers:
            raise answers.pop(0)
        return AccountInventory(account_id, (), False, True, now)

    def refused(iam, deadline):
        raise ReportUnavailable("credential report not permitted (AccessDenied)")

    monkeypatch.setattr(credential_report, "collect_account", api)
    monkeypatch.setattr(credential_report, "fetch_credential_report", refused)
    collected = collect_account_auto(IAM, "111111111111", NOW, use_report, 1, Deadline.after(60))
    # Then it was retried rather than failing the account
    assert collected.path is CollectionPath.API
    assert collected.inventory == AccountInventory("111111111111", (), False, True, NOW)
    assert answers == []
