"""The credential report path pinned value by value: timestamps, key slots, polling and the path chosen."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from iam_inventory.collect import account as account_collector
from iam_inventory.collect.account import Collected, collect_account_auto
from iam_inventory.collect.credential_report import (
    ReportKey,
    ReportUnavailable,
    fetch_credential_report,
    parse_credential_report,
    parse_report_time,
)
from iam_inventory.collect.credentials import OtherCredentials
from iam_inventory.collect.keys import PreviousUser, match_keys, whole_second
from iam_inventory.collect.report_path import collect_account_from_report
from iam_inventory.collect.users import LiveUser, LiveUsers
from iam_inventory.core import retry
from iam_inventory.core.budget import Deadline
from iam_inventory.core.retry import call_patiently, client_error_code
from iam_inventory.models import (
    AccessKey,
    AccountInventory,
    CollectionPath,
    Finding,
    IamUser,
    KeyLastUse,
    Severity,
)
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


@pytest.mark.parametrize(
    ("enabled", "changed", "expected"),
    [
        ("true", "2025-03-01T10:00:00Z", datetime(2025, 3, 1, 10, tzinfo=UTC)),
        ("true", "N/A", None),
        # a date beside a password that is not enabled belongs to no password a user could sign in with
        ("false", "2025-03-01T10:00:00Z", None),
    ],
)
def test_when_the_password_was_set_is_read_for_users_with_a_password_only(enabled, changed, expected):
    # Given a report with the password_last_changed column (console_password_unused counts from it
    # for a password never used)
    header = HEADER.replace("password_last_used,", "password_last_used,password_last_changed,")
    line = row("alice", password=enabled).replace(f",{enabled},N/A,", f",{enabled},N/A,{changed},", 1)
    # When parsed
    (alice,) = parse_credential_report(f"{header}\n{line}\n", GENERATED).users
    # Then the date is kept only when the user has a password
    assert (alice.password_enabled, alice.password_changed_at) == (enabled == "true", expected)


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

    monkeypatch.setattr("iam_inventory.core.retry.random.Random", UpperBound)
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
    """Per-user IAM answers (keys, last use, login profile, MFA, GetUser, summary); calls and threads kept."""

    def __init__(
        self,
        keys: dict[str, list[dict]],
        last_used: dict | None = None,
        throttled: tuple[str, ...] = (),
        in_pairs: bool = False,
        console: dict[str, datetime] | None = None,
    ) -> None:
        self.keys = keys
        self.last_used = last_used or {}
        self.console = console or {}  # user -> when the password was set
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

    # The other credential kinds (collect/credentials.py): none in these accounts.
    def list_service_specific_credentials(self, **arguments: object) -> dict:
        self._call("ListServiceSpecificCredentials")
        return {"ServiceSpecificCredentials": [], "IsTruncated": False}

    def list_ssh_public_keys(self, UserName: str, **arguments: object) -> dict:
        self._call(f"ListSSHPublicKeys:{UserName}")
        return {"SSHPublicKeys": [], "IsTruncated": False}

    def list_signing_certificates(self, UserName: str, **arguments: object) -> dict:
        self._call(f"ListSigningCertificates:{UserName}")
        return {"Certificates": [], "IsTruncated": False}

    def list_access_keys(self, UserName: str) -> dict:
        self._call(f"ListAccessKeys:{UserName}")
        self.threads.add(threading.current_thread().name)
        if self.pairs:
            self.pairs.wait()
        if UserName not in self.keys:
            raise client_error("NoSuchEntity", "ListAccessKeys")
        return {"AccessKeyMetadata": self.keys[UserName]}

    def get_access_key_last_used(self, AccessKeyId: str) -> dict:
        self._call(f"GetAccessKeyLastUsed:{AccessKeyId}")
        return {"AccessKeyLastUsed": self.last_used[AccessKeyId]}

    def get_login_profile(self, UserName: str) -> dict:
        self._call(f"GetLoginProfile:{UserName}")
        if UserName not in self.console:
            raise client_error("NoSuchEntity", "GetLoginProfile")
        return {"LoginProfile": {"UserName": UserName, "CreateDate": self.console[UserName]}}

    def list_mfa_devices(self, UserName: str) -> dict:
        self._call(f"ListMFADevices:{UserName}")
        return {"MFADevices": []}

    def get_user(self, UserName: str) -> dict:
        self._call(f"GetUser:{UserName}")
        return {"User": {"UserName": UserName}}

    def get_account_summary(self) -> dict:
        self._call("GetAccountSummary")
        return {"SummaryMap": {"AccountAccessKeysPresent": 0, "AccountMFAEnabled": 1}}


KEY1 = "true,2026-01-10T12:00:00Z,2026-11-22T09:00:00Z,eu-west-1,s3"
CREATED = datetime(2024, 1, 1, tzinfo=UTC)  # the users' creation time in `row`


def listed(key_id: str, created: datetime, status: str = "Active") -> dict:
    return {"AccessKeyId": key_id, "CreateDate": created, "Status": status}


def live(name: str, created: datetime = CREATED) -> LiveUser:
    """A user as the live listing shows it now."""
    return LiveUser(name, f"AIDA{name.upper()}", f"arn:aws:iam::111111111111:user/{name}", "/", created)


def test_inventory_from_the_report_is_the_report_plus_listed_keys():
    # Given a report that predates the run, with a console user without MFA, a user deleted since, and a
    # user with MFA but no password; the first user also has a key created after the report
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
            ],
            "bob": [],
        },
        last_used={"AKIAFRESH1": {"LastUsedDate": NOW, "ServiceName": "sts", "Region": "us-east-1"}},
    )
    # When the inventory is built for the users that exist now
    inventory = collect_account_from_report(
        iam, "111111111111", NOW, report, [live("alice"), live("bob")], 1, Deadline.unlimited()
    )
    # Then every field comes from the live listing, the report, ListAccessKeys, or the API for the fresh key
    assert inventory == AccountInventory(
        account_id="111111111111",
        users=(
            IamUser(
                user_name="alice",
                user_id="AIDAALICE",
                arn="arn:aws:iam::111111111111:user/alice",
                path="/",
                created_at=CREATED,
                console_access=True,
                password_last_used=datetime(2026, 11, 20, 8, tzinfo=UTC),
                mfa_enabled=False,
                access_keys=(
                    AccessKey(
                        "AKIAALICE1",
                        "Active",
                        datetime(2026, 1, 10, 12, tzinfo=UTC),
                        KeyLastUse(datetime(2026, 11, 22, 9, tzinfo=UTC), "s3", "eu-west-1"),
                        last_use_from_report=True,
                    ),
                    AccessKey("AKIAFRESH1", "Inactive", fresh, KeyLastUse(NOW, "sts", "us-east-1")),
                ),
                console_from_report=True,
            ),
            IamUser(
                user_name="bob",
                user_id="AIDABOB",
                arn="arn:aws:iam::111111111111:user/bob",
                path="/",
                created_at=CREATED,
                console_access=False,
                password_last_used=None,
                # MFA without a password does not count: it cannot protect a console sign-in
                mfa_enabled=False,
                access_keys=(),
                console_from_report=True,
            ),
        ),
        root_access_keys_present=False,
        root_mfa_enabled=True,
        collected_at=NOW,
        root_from_report=False,
        # No root row: the summary was read, and it names no AccountPasswordPresent, so root may sign in
        root_password_present=True,
    )
    # And the deleted user cost no call; bob's keys were listed because the report may miss new ones
    assert iam.calls == [
        "ListAccessKeys:alice",
        "GetAccessKeyLastUsed:AKIAFRESH1",
        "ListAccessKeys:bob",
        "GetAccountSummary",  # no root row in this report
    ]


def test_console_user_with_mfa_keeps_it_and_a_row_without_creation_time_is_still_the_users():
    # Given a report this run generated, whose row for carol has no creation time
    line = row("carol", password="true", mfa="true").replace("2024-01-01T00:00:00Z", "N/A")
    report = parse_credential_report(f"{HEADER}\n{line}\n", GENERATED, generated_by_run=True)
    iam = ListingIam({})
    # When the inventory is built
    inventory = collect_account_from_report(
        iam, "111111111111", NOW, report, [live("carol")], 1, Deadline.unlimited()
    )
    # Then carol comes from her row (MFA kept, password never used), her creation from the live listing
    (carol,) = inventory.users
    assert (carol.mfa_enabled, carol.created_at, carol.password_last_used) == (True, CREATED, None)
    assert carol.console_from_report
    assert iam.calls == ["GetAccountSummary"]


def test_a_user_recreated_under_the_same_name_is_read_live_not_from_the_old_row():
    # Given a report row for dave (created 2024-01-01, a console password), but the dave that exists now
    # was created after the report, without a password: another user under the same name
    report = parse_credential_report(f"{HEADER}\n{row('dave', password='true', key1=KEY1)}\n", GENERATED)
    iam = ListingIam({"dave": []})
    # When the inventory is built
    inventory = collect_account_from_report(
        iam, "111111111111", NOW, report, [live("dave", NOW - timedelta(hours=1))], 1, Deadline.unlimited()
    )
    # Then the new dave is read with live calls, and inherits nothing from the old row
    (dave,) = inventory.users
    assert (dave.console_access, dave.access_keys, dave.console_from_report) == (False, (), False)
    assert iam.calls == ["ListAccessKeys:dave", "GetLoginProfile:dave", "GetAccountSummary"]


@pytest.fixture
def no_backoff(monkeypatch):
    """call_patiently's default backoff made instant (the waits themselves are pinned above)."""
    monkeypatch.setattr(retry, "backoff_delays", lambda **_: lambda attempt: 0.0)


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
    inventory = collect_account_from_report(
        iam, "111111111111", NOW, report, [live("alice")], 1, Deadline.after(60)
    )
    # Then each call was made again, and the account is complete
    assert iam.calls == [
        "ListAccessKeys:alice",
        "ListAccessKeys:alice",
        "GetAccessKeyLastUsed:AKIAFRESH1",
        "GetAccessKeyLastUsed:AKIAFRESH1",
        "GetAccountSummary",
        "GetAccountSummary",
    ]
    assert [(key.access_key_id, key.last_use) for key in inventory.users[0].access_keys] == [
        ("AKIAFRESH1", KeyLastUse(None))
    ]
    assert (inventory.root_access_keys_present, inventory.root_mfa_enabled) == (False, True)


@pytest.mark.parametrize(
    ("users_with_keys", "concurrency", "threads"),
    [
        (2, 2, {"iam_0", "iam_1"}),
        (6, 2, {"iam_0", "iam_1"}),
        (3, 1, {"MainThread"}),
        (1, 4, {"MainThread"}),
    ],
)
def test_keys_are_listed_in_a_pool_of_account_concurrency_threads(users_with_keys, concurrency, threads):
    # Given users with keys; IAM throttles per account, so at most `concurrency` calls at a time
    rows = [row(f"user{n}", key1=KEY1) for n in range(users_with_keys)]
    report = parse_credential_report("\n".join([HEADER, *rows]), GENERATED, generated_by_run=True)
    keys = {f"user{n}": [listed(f"AKIAUSER{n}", datetime(2026, 1, 10, 12, tzinfo=UTC))] for n in range(6)}
    iam = ListingIam(keys, in_pairs=threads != {"MainThread"})
    users = [live(f"user{n}") for n in range(users_with_keys)]
    # When the inventory is built
    inventory = collect_account_from_report(
        iam, "111111111111", NOW, report, users, concurrency, Deadline.unlimited()
    )
    # Then a single listing runs inline, several share a pool of at most `concurrency` threads
    assert iam.threads <= threads
    if threads != {"MainThread"}:
        assert iam.threads & threads
    # And the users keep their order, each key with its report slot's last use
    assert [(user.user_name, user.access_keys[0].access_key_id) for user in inventory.users] == [
        (f"user{n}", f"AKIAUSER{n}") for n in range(users_with_keys)
    ]
    assert {user.access_keys[0].last_use for user in inventory.users} == {
        KeyLastUse(datetime(2026, 11, 22, 9, tzinfo=UTC), "s3", "eu-west-1")
    }


IAM = object()  # the account's IAM client, as the collection paths must receive it
ALICE = live("alice")
OLD_SPOKE = "spoke role lacks iam:GetAccountAuthorizationDetails"


def _finding(user: str) -> Finding:
    return Finding("id", "console_user_without_mfa", Severity.HIGH, "1.10", "111111111111", user, None, 0, 1,
                   "mfa_devices", "m", verified_live=False)  # fmt: skip


@pytest.fixture
def paths(monkeypatch):
    """The live listing, both collection paths and verification replaced by recorders.

    The report path's fetch answers from `outcome["report"]`; the listing from `outcome["listing"]`.
    """
    seen: dict[str, object] = {}
    outcome: dict[str, object] = {"report": None, "listing": LiveUsers((ALICE,), True)}

    def list_users(iam, tag_keys, concurrency, deadline):
        assert iam is IAM
        seen["listing"] = (tuple(tag_keys), concurrency)
        return outcome["listing"]

    def api(iam, account_id, now, users, concurrency, deadline):
        assert iam is IAM
        seen["api"] = (account_id, now, tuple(users), concurrency)
        return AccountInventory(account_id, (), False, True, now)

    def fetch(iam, deadline, run_started_at):
        assert iam is IAM
        seen["report_wait"] = deadline.remaining()
        seen["run_started_at"] = run_started_at
        if isinstance(outcome["report"], ReportUnavailable):
            raise outcome["report"]
        return outcome["report"]

    def from_report(iam, account_id, now, report, users, concurrency, deadline, previous):
        assert iam is IAM
        seen["report"] = (account_id, now, report, tuple(users), concurrency, deadline.remaining() > 500)
        seen["previous"] = previous
        return AccountInventory(account_id, (), True, False, now)

    def verify(iam, inventory, candidates, concurrency, deadline):
        assert iam is IAM
        seen["verify"] = (inventory, list(candidates), concurrency)
        return AccountInventory(inventory.account_id, (), False, True, inventory.collected_at), 2

    def other(iam, inventory, users, report, concurrency, deadline):
        # The other credential kinds run on both paths, after the inventory and before verification.
        assert iam is IAM
        seen.setdefault("other", []).append((inventory, report, tuple(users), concurrency))
        return OtherCredentials(inventory)

    monkeypatch.setattr(account_collector, "list_live_users", list_users)
    monkeypatch.setattr(account_collector, "collect_other_credentials", other)
    monkeypatch.setattr(account_collector, "collect_account_api", api)
    monkeypatch.setattr(account_collector, "fetch_credential_report", fetch)
    monkeypatch.setattr(account_collector, "collect_account_from_report", from_report)
    monkeypatch.setattr(account_collector, "verify_candidates", verify)
    return seen, outcome


def test_auto_uses_the_report_and_says_so(paths):
    seen, outcome = paths
    outcome["report"] = parse_credential_report(HEADER, GENERATED, generated_by_run=True)
    # When an account is collected with the report allowed, 600 s left and the default report wait (60 s)
    collected = collect_account_auto(
        IAM, "111111111111", NOW, True, 3, Deadline.after(600), tag_keys=("owner",),
        candidates=lambda inventory: [_finding("alice")],
    )  # fmt: skip
    # Then the report path built it for the live users, and the result says which path and how old the
    # report was; a report this run generated needs no verification
    assert collected == Collected(
        AccountInventory("111111111111", (), True, False, NOW), CollectionPath.CREDENTIAL_REPORT, GENERATED
    )
    assert seen["listing"] == (("owner",), 3)
    # (the inventory itself may use the account's whole deadline, not only the report wait)
    assert seen["report"] == ("111111111111", NOW, outcome["report"], (ALICE,), 3, True)
    assert 59.0 < seen["report_wait"] <= 60.0
    # And the report's freshness is judged against the run's start
    assert seen["run_started_at"] == NOW
    assert set(seen) == {"listing", "report", "report_wait", "run_started_at", "other", "previous"}
    # And the other credential kinds were read once, with the report, for the same users
    assert seen["other"] == [
        (AccountInventory("111111111111", (), True, False, NOW), outcome["report"], (ALICE,), 3)
    ]
    # And without a previous scan reader, no key id is reused
    assert seen["previous"] is None


def test_auto_reads_the_previous_scan_only_for_a_report_this_run_generated(paths):
    seen, outcome = paths
    previous = {"alice": PreviousUser("AIDAALICE", ())}
    reads: list[str] = []

    def read_previous():
        reads.append("read")
        return previous

    for generated_by_run, expected in ((True, previous), (False, None)):
        # Given a report this run generated, then one that predates the run
        outcome["report"] = parse_credential_report(HEADER, GENERATED, generated_by_run=generated_by_run)
        # When the account is collected with a reader of the previous run's scan
        collect_account_auto(IAM, "111111111111", NOW, True, 3, Deadline.after(600), previous=read_previous)
        # Then the previous scan reaches the report path only for this run's report, and is read only then
        assert seen["previous"] == expected
    assert reads == ["read"]


def test_auto_verifies_the_candidates_of_an_older_report_live(paths):
    seen, outcome = paths
    # Given a report that predates the run (GenerateCredentialReport answered COMPLETE)
    outcome["report"] = parse_credential_report(HEADER, GENERATED, generated_by_run=False)
    # When the account is collected with a candidate finder
    collected = collect_account_auto(
        IAM, "111111111111", NOW, True, 3, Deadline.after(600),
        candidates=lambda inventory: [_finding("alice")] if inventory.root_access_keys_present else [],
    )  # fmt: skip
    # Then the candidates of the report's inventory were verified, and the verified inventory is kept
    assert seen["verify"] == (AccountInventory("111111111111", (), True, False, NOW), [_finding("alice")], 3)
    assert collected == Collected(
        AccountInventory("111111111111", (), False, True, NOW),
        CollectionPath.CREDENTIAL_REPORT,
        GENERATED,
        verification_calls=2,
    )


def test_auto_without_a_candidate_finder_verifies_nothing(paths):
    seen, outcome = paths
    outcome["report"] = parse_credential_report(HEADER, GENERATED, generated_by_run=False)
    collected = collect_account_auto(IAM, "111111111111", NOW, True, 3, Deadline.after(600))
    assert "verify" not in seen
    assert collected.verification_calls == 0


def test_auto_says_when_users_came_from_the_older_listing(paths):
    _, outcome = paths
    # Given an older spoke role: the users came from ListUsers, with a warning
    outcome["listing"] = LiveUsers((ALICE,), False, (OLD_SPOKE,))
    outcome["report"] = parse_credential_report(HEADER, GENERATED, generated_by_run=True)
    # When collected with the report, then without it
    with_report = collect_account_auto(IAM, "111111111111", NOW, True, 3, Deadline.after(600))
    with_api = collect_account_auto(IAM, "111111111111", NOW, False, 3, Deadline.after(600))
    # Then each path says so, and the warning reaches the account
    assert (with_report.path, with_report.warnings) == (
        CollectionPath.CREDENTIAL_REPORT_LIST_USERS,
        (OLD_SPOKE,),
    )
    assert (with_api.path, with_api.warnings) == (CollectionPath.API_LIST_USERS, (OLD_SPOKE,))


def test_auto_falls_back_to_the_api_and_gives_the_reason(paths):
    seen, outcome = paths
    outcome["report"] = ReportUnavailable("credential report not permitted (AccessDenied)")
    collected = collect_account_auto(IAM, "111111111111", NOW, True, 3, Deadline.after(600), 900.0)
    assert collected == Collected(
        AccountInventory("111111111111", (), False, True, NOW),
        CollectionPath.API,
        fallback_reason="credential report not permitted (AccessDenied)",
    )
    assert seen["api"] == ("111111111111", NOW, (ALICE,), 3)
    # the report wait is bounded by the account's own deadline too
    assert 599.0 < seen["report_wait"] <= 600.0


def test_api_mode_never_asks_for_the_report(paths):
    seen, _ = paths
    collected = collect_account_auto(IAM, "111111111111", NOW, False, 2, Deadline.unlimited())
    assert collected == Collected(AccountInventory("111111111111", (), False, True, NOW), CollectionPath.API)
    assert set(seen) == {"listing", "api", "other"}
    # And the other credential kinds were read without a report
    assert [(report, users) for _, report, users, _ in seen["other"]] == [(None, (ALICE,))]
    assert seen["api"] == ("111111111111", NOW, (ALICE,), 2)


@pytest.mark.parametrize("use_report", [False, True], ids=["api mode", "fallback"])
def test_api_path_is_patient_with_throttling(monkeypatch, no_backoff, use_report):
    # Given a console user with a key, read through the API path (in API mode, or after the report was
    # refused), and every call of that path throttled once
    def refused(iam, deadline, run_started_at):
        raise ReportUnavailable("credential report not permitted (AccessDenied)")

    monkeypatch.setattr(account_collector, "list_live_users", lambda *args: LiveUsers((ALICE,), True))
    monkeypatch.setattr(account_collector, "fetch_credential_report", refused)
    created = NOW - timedelta(days=10)
    iam = ListingIam(
        {"alice": [listed("AKIAALICE1", created)]},
        last_used={"AKIAALICE1": {"LastUsedDate": NOW, "ServiceName": "N/A", "Region": "N/A"}},
        console={"alice": CREATED},
        throttled=("GetAccountSummary", "ListAccessKeys", "GetAccessKeyLastUsed", "GetLoginProfile",
                   "ListMFADevices", "GetUser", "ListServiceSpecificCredentials", "ListSSHPublicKeys",
                   "ListSigningCertificates"),
    )  # fmt: skip
    # When the account is collected
    collected = collect_account_auto(iam, "111111111111", NOW, use_report, 1, Deadline.after(60))
    # Then each call was retried rather than failing the account, and the user is complete
    assert collected.path is CollectionPath.API
    once = [
        "GetAccountSummary",
        "ListAccessKeys:alice",
        "GetAccessKeyLastUsed:AKIAALICE1",
        "GetLoginProfile:alice",
        "ListMFADevices:alice",
        "GetUser:alice",
        # (alice's policies were not read in this listing: her SSH keys are read rather than missed)
        "ListServiceSpecificCredentials",
        "ListSSHPublicKeys:alice",
        "ListSigningCertificates:alice",
    ]
    assert iam.calls == [call for call in once for _ in range(2)]
    (alice,) = collected.inventory.users
    # (the login profile's CreateDate is not when the password was last set: that stays unknown)
    assert (alice.console_access, alice.mfa_enabled, alice.password_changed_at) == (True, False, None)
    # IAM's "N/A" service and region mean no record, not a service named N/A
    assert alice.access_keys == (AccessKey("AKIAALICE1", "Active", created, KeyLastUse(NOW, None, None)),)


SLOT_TIME = datetime(2026, 1, 10, 12, tzinfo=UTC)


def test_whole_second_is_the_utc_instant_without_its_fraction():
    plus_two = timezone(timedelta(hours=2))
    moment = datetime(2026, 1, 10, 14, 0, 0, 999_999, tzinfo=plus_two)
    assert whole_second(moment) == SLOT_TIME
    assert whole_second(moment).tzinfo is UTC
    assert whole_second(moment).microsecond == 0


@pytest.fixture
def tokyo_machine(monkeypatch):
    """The process runs in Asia/Tokyo (a CLI user's laptop), so a naive time read as local is 9 h off."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_naive_time_is_utc_whatever_the_machines_zone(tokyo_machine):
    assert whole_second(datetime(2026, 1, 10, 12, 0, 0, 500_000)) == SLOT_TIME
    assert whole_second(datetime(2026, 1, 10, 12)).tzinfo is UTC


def test_a_key_listed_in_another_zone_matches_its_slot_at_the_same_instant():
    # Given ListAccessKeys' CreateDate in +02:00 and the report's slot in UTC, the same second
    slot = ReportKey(1, True, SLOT_TIME, NOW - timedelta(days=3), "s3", "eu-west-1")
    created = SLOT_TIME.astimezone(timezone(timedelta(hours=2)))
    # When matched
    (key,) = match_keys([listed("AKIAZONE", created)], (slot,), pytest.fail)
    # Then it is the slot's key: its last use comes from the report, no API call
    assert (key.last_use, key.last_use_from_report) == (
        KeyLastUse(NOW - timedelta(days=3), "s3", "eu-west-1"),
        True,
    )


def test_a_naive_create_date_matches_its_slot_on_a_machine_outside_utc(tokyo_machine):
    slot = ReportKey(1, True, SLOT_TIME, None, None, None)
    (key,) = match_keys([listed("AKIANAIVE", SLOT_TIME.replace(tzinfo=None))], (slot,), pytest.fail)
    assert key.last_use_from_report


def test_a_key_deleted_while_read_does_not_hide_the_users_next_key():
    # Given two keys newer than the report; the older one is deleted before its last use is read
    answers = {"AKIAGONE": None, "AKIASTAYS": KeyLastUse(NOW, "sts", "us-east-1")}
    keys = match_keys(
        [listed("AKIASTAYS", NOW - timedelta(hours=1)), listed("AKIAGONE", NOW - timedelta(hours=2))],
        (),
        answers.get,
    )
    # Then the deleted key is dropped and the other one is still inventoried
    assert keys == (
        AccessKey("AKIASTAYS", "Active", NOW - timedelta(hours=1), KeyLastUse(NOW, "sts", "us-east-1")),
    )
