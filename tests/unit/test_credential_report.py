"""Credential report parsing, key matching, polling and patience with throttling (no AWS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from iam_inventory.collect.credential_report import (
    ReportKey,
    ReportUnavailable,
    fetch_credential_report,
    parse_credential_report,
)
from iam_inventory.collect.keys import match_keys
from iam_inventory.collect.report_path import collect_account_from_report
from iam_inventory.collect.users import LiveUser
from iam_inventory.core.budget import Deadline
from iam_inventory.core.retry import call_patiently
from iam_inventory.models import KeyLastUse
from tests.builders import NOW
from tests.fakes import FakeTime

GENERATED = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,"
    "cert_2_active,cert_2_last_rotated"
)
# Rows as AWS writes them: root first, then users; N/A where a slot is empty or a key never used.
AWS_REPORT = "\n".join(
    (
        HEADER,
        "<root_account>,arn:aws:iam::111111111111:root,2020-01-01T00:00:00+00:00,not_supported,"
        "2026-11-01T10:00:00+00:00,not_supported,not_supported,true,true,2021-01-01T00:00:00+00:00,N/A,"
        "N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
        "alice,arn:aws:iam::111111111111:user/staff/alice,2024-01-01T00:00:00+00:00,true,"
        "2026-11-20T08:00:00+00:00,2024-01-01T00:00:00+00:00,N/A,false,true,2026-01-10T12:00:00+00:00,"
        "2026-11-22T09:00:00+00:00,eu-west-1,s3,false,2026-06-01T00:00:00+00:00,N/A,N/A,N/A,"
        "false,N/A,false,N/A",
        "bob,arn:aws:iam::111111111111:user/bob,2024-02-01T00:00:00+00:00,false,N/A,N/A,N/A,false,"
        "false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
    )
)
# moto 5.2 writes not_supported for last-used region/service and no_information for a password never used.
MOTO_ROW = (
    "carol,arn:aws:iam::111111111111:user/carol,2024-01-01T00:00:00+00:00,true,no_information,"
    "2024-01-01T00:00:00+00:00,not_supported,true,true,2026-10-01T00:00:00+00:00,"
    "2026-11-01T00:00:00+00:00,not_supported,not_supported,false,N/A,N/A,not_supported,not_supported,"
    "false,false"
)


def test_parse_reads_users_keys_and_root_apart():
    # Given a report as AWS writes it
    # When it is parsed
    report = parse_credential_report(AWS_REPORT.encode(), GENERATED)

    # Then the root row is kept apart, users keep their order, paths come from the ARN
    assert report.generated_at == GENERATED
    assert report.root is not None
    assert report.root.mfa_active
    assert len(report.root.keys) == 1
    assert [row.user_name for row in report.users] == ["alice", "bob"]
    alice, bob = report.users
    assert alice.path == "/staff/"
    assert bob.path == "/"
    assert alice.password_enabled
    assert not alice.mfa_active
    assert alice.password_last_used == datetime(2026, 11, 20, 8, tzinfo=UTC)
    # And both key slots of alice are read, the never-used one with no date
    assert alice.keys == (
        ReportKey(
            1,
            True,
            datetime(2026, 1, 10, 12, tzinfo=UTC),
            datetime(2026, 11, 22, 9, tzinfo=UTC),
            "s3",
            "eu-west-1",
        ),
        ReportKey(2, False, datetime(2026, 6, 1, tzinfo=UTC), None, None, None),
    )
    assert bob.keys == ()
    assert bob.password_last_used is None


def test_parse_treats_moto_placeholders_as_no_value():
    # Given a row in moto's dialect
    report = parse_credential_report(HEADER + "\n" + MOTO_ROW + "\n", GENERATED)

    # Then its placeholders are read as "no value", never as dates or names
    (carol,) = report.users
    assert report.root is None
    assert carol.password_last_used is None
    assert carol.keys[0].last_used_at == datetime(2026, 11, 1, tzinfo=UTC)
    assert carol.keys[0].service is None
    assert carol.keys[0].region is None


def metadata(key_id: str, created: datetime, status: str = "Active") -> dict:
    return {"AccessKeyId": key_id, "CreateDate": created, "Status": status, "UserName": "alice"}


def test_keys_are_matched_to_columns_by_creation_time_not_order():
    # Given two listed keys, listed newest first, and report columns in creation order
    old, new = NOW - timedelta(days=200), NOW - timedelta(days=3)
    columns = (
        ReportKey(1, True, old, NOW - timedelta(days=100), "ec2", "us-east-1"),
        ReportKey(2, True, new + timedelta(milliseconds=400), None, None, None),
    )
    asked: list[str] = []

    # When they are matched
    keys = match_keys(
        [metadata("AKIANEW0000000000000", new), metadata("AKIAOLD0000000000000", old, "Inactive")],
        columns,
        lambda key_id: asked.append(key_id) or KeyLastUse(None),
    )

    # Then each key id carries its own column's last use, and status comes from ListAccessKeys
    by_id = {key.access_key_id: key for key in keys}
    assert by_id["AKIAOLD0000000000000"].last_use == KeyLastUse(NOW - timedelta(days=100), "ec2", "us-east-1")
    assert by_id["AKIAOLD0000000000000"].status == "Inactive"
    assert by_id["AKIANEW0000000000000"].last_use.never_used
    assert asked == []


def test_a_key_newer_than_the_report_gets_its_last_use_from_the_api():
    # Given a key created after the report was generated (no column matches its creation time)
    created = NOW - timedelta(hours=1)
    asked: list[str] = []

    def last_use_of(key_id: str) -> KeyLastUse:
        asked.append(key_id)
        return KeyLastUse(NOW, "sts", "us-east-1")

    # When it is matched
    (key,) = match_keys([metadata("AKIAFRESH00000000000", created)], (), last_use_of)

    # Then its last use is asked of the API instead of guessed
    assert asked == ["AKIAFRESH00000000000"]
    assert key.last_use.used_at == NOW


def client_error(code: str, operation: str = "GetCredentialReport") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


class ScriptedIam:
    """An IAM client whose credential-report calls answer from a script of errors, then succeed."""

    def __init__(self, generate: list[str] | None = None, get: list[str] | None = None) -> None:
        self.generate_script = list(generate or [])
        self.get_script = list(get or [])
        self.calls: list[str] = []

    def generate_credential_report(self) -> dict:
        self.calls.append("Generate")
        if self.generate_script:
            raise client_error(self.generate_script.pop(0), "GenerateCredentialReport")
        return {"State": "STARTED"}

    def get_credential_report(self) -> dict:
        self.calls.append("Get")
        if self.get_script:
            raise client_error(self.get_script.pop(0))
        return {"Content": AWS_REPORT.encode(), "GeneratedTime": GENERATED, "ReportFormat": "text/csv"}


@pytest.mark.parametrize(
    ("generate", "get", "expected_calls"),
    [
        ([], [], ["Generate", "Get"]),
        ([], ["ReportInProgress", "ReportInProgress"], ["Generate", "Get", "Get", "Get"]),
        (["LimitExceeded"], [], ["Generate", "Generate", "Get"]),
        ([], ["ReportExpired"], ["Generate", "Get", "Generate", "Get"]),
        ([], ["ReportNotPresent"], ["Generate", "Get", "Generate", "Get"]),
        (["Throttling"], ["Throttling"], ["Generate", "Generate", "Get", "Get"]),
    ],
)
def test_fetch_polls_with_backoff_until_the_report_is_ready(generate, get, expected_calls):
    # Given IAM that answers with transient report states before the report is ready
    iam, fake = ScriptedIam(generate, get), FakeTime()

    # When the report is fetched
    report = fetch_credential_report(iam, Deadline.after(60, fake.clock), fake.sleep, delay=lambda n: 2.0**n)

    # Then it polled (regenerating when needed), backing off between attempts, and got the report
    assert iam.calls == expected_calls
    assert fake.slept == [2.0**n for n in range(len(generate) + len(get))]
    assert [row.user_name for row in report.users] == ["alice", "bob"]


@pytest.mark.parametrize("code", ["AccessDenied", "AccessDeniedException"])
def test_missing_report_permission_means_unavailable_not_failed(code):
    # Given a spoke role without iam:GenerateCredentialReport
    iam = ScriptedIam(generate=[code])

    # When the report is fetched
    # Then the caller learns the report is unavailable (and falls back), without any wait
    with pytest.raises(ReportUnavailable, match=code):
        fetch_credential_report(iam, Deadline.unlimited(), sleep=pytest.fail)


def test_a_report_still_in_progress_at_the_deadline_is_unavailable():
    # Given a report that never becomes ready
    iam, fake = ScriptedIam(get=["ReportInProgress"] * 100), FakeTime()

    # When it is fetched with 10 seconds to spare
    with pytest.raises(ReportUnavailable, match="not ready in time"):
        fetch_credential_report(iam, Deadline.after(10, fake.clock), fake.sleep, delay=lambda n: 2.0)

    # Then it stopped polling before the deadline
    assert fake.now <= 10


def test_other_errors_are_not_swallowed():
    # Given an unexpected error
    iam = ScriptedIam(get=["ServiceFailure"])

    # Then it propagates (the account fails with that code)
    with pytest.raises(ClientError, match="ServiceFailure"):
        fetch_credential_report(iam, Deadline.unlimited(), sleep=lambda _: None)


def test_throttling_is_retried_while_time_remains_then_surfaces():
    # Given a call that is throttled three times, then succeeds
    fake = FakeTime()
    answers = [client_error("Throttling")] * 3 + ["done"]

    def call() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    # When it is called patiently with time to spare
    result = call_patiently(call, Deadline.after(60, fake.clock), fake.sleep, delay=lambda n: 1.0)

    # Then throttling never became a failure
    assert result == "done"
    assert fake.slept == [1.0, 1.0, 1.0]

    # And when time has run out, the throttling error surfaces instead of waiting past the deadline
    answers[:] = [client_error("Throttling")]
    with pytest.raises(ClientError, match="Throttling"):
        call_patiently(call, Deadline.after(0.5, fake.clock), fake.sleep, delay=lambda n: 1.0)


def test_non_throttling_errors_are_not_retried():
    attempts = []

    def call() -> None:
        attempts.append(1)
        raise client_error("NoSuchEntity")

    with pytest.raises(ClientError):
        call_patiently(call, Deadline.unlimited(), sleep=pytest.fail)
    assert len(attempts) == 1


class ListingIam:
    """An IAM client for collect_account_from_report: ListAccessKeys answers, calls recorded."""

    def __init__(self, keys: dict[str, list[dict]], summary: dict | None = None) -> None:
        self.keys = keys
        self.summary = summary or {}
        self.calls: list[str] = []

    # The other credential kinds (collect/credentials.py): none in these accounts.
    def list_service_specific_credentials(self, **arguments: object) -> dict:
        self.calls.append("ListServiceSpecificCredentials")
        return {"ServiceSpecificCredentials": [], "IsTruncated": False}

    def list_ssh_public_keys(self, UserName: str, **arguments: object) -> dict:
        self.calls.append(f"ListSSHPublicKeys:{UserName}")
        return {"SSHPublicKeys": [], "IsTruncated": False}

    def list_signing_certificates(self, UserName: str, **arguments: object) -> dict:
        self.calls.append(f"ListSigningCertificates:{UserName}")
        return {"Certificates": [], "IsTruncated": False}

    def list_access_keys(self, UserName: str) -> dict:
        self.calls.append(f"ListAccessKeys:{UserName}")
        if UserName not in self.keys:
            raise client_error("NoSuchEntity", "ListAccessKeys")
        return {"AccessKeyMetadata": self.keys[UserName]}

    def get_account_summary(self) -> dict:
        self.calls.append("GetAccountSummary")
        return {"SummaryMap": self.summary}


def live(name: str, created: datetime, path: str = "/") -> LiveUser:
    return LiveUser(name, f"AIDA{name.upper()}", f"arn:aws:iam::111111111111:user{path}{name}", path, created)


ALICE = live("alice", datetime(2024, 1, 1, tzinfo=UTC), "/staff/")
BOB = live("bob", datetime(2024, 2, 1, tzinfo=UTC))


def test_inventory_from_a_fresh_report_lists_keys_only_for_users_with_keys():
    # Given a report this run generated (alice has two keys, bob none) and IAM listing alice's keys
    report = parse_credential_report(AWS_REPORT.encode(), GENERATED, generated_by_run=True)
    iam = ListingIam(
        {
            "alice": [
                metadata("AKIAALICE00000000001", datetime(2026, 1, 10, 12, tzinfo=UTC)),
                metadata("AKIAALICE00000000002", datetime(2026, 6, 1, tzinfo=UTC), "Inactive"),
            ]
        }
    )

    # When the inventory is built
    inventory = collect_account_from_report(
        iam, "111111111111", NOW, report, [ALICE, BOB], 4, Deadline.unlimited()
    )

    # Then only alice's keys were listed, root state came from the root row, keys carry report data
    assert iam.calls == ["ListAccessKeys:alice"]
    assert (inventory.root_access_keys_present, inventory.root_mfa_enabled) == (True, True)
    assert inventory.root_from_report
    alice, bob = inventory.users
    assert (alice.console_access, alice.mfa_enabled, alice.path) == (True, False, "/staff/")
    assert alice.console_from_report
    assert [key.last_use.service for key in alice.access_keys] == ["s3", None]
    assert [key.last_use_from_report for key in alice.access_keys] == [True, True]
    assert bob.access_keys == ()


def test_an_older_report_lists_every_users_keys_because_keys_may_have_been_created_since():
    # Given a report that predates the run, where bob had no key
    report = parse_credential_report(AWS_REPORT.encode(), GENERATED, generated_by_run=False)
    iam = ListingIam({"alice": [], "bob": []})

    # When the inventory is built
    collect_account_from_report(iam, "111111111111", NOW, report, [ALICE, BOB], 1, Deadline.unlimited())

    # Then bob's keys were listed too
    assert iam.calls == ["ListAccessKeys:alice", "ListAccessKeys:bob"]


def test_users_deleted_since_the_report_drop_out_and_a_missing_root_row_asks_the_summary():
    # Given a report in moto's dialect (no root row) whose only user was deleted since
    report = parse_credential_report(HEADER + "\n" + MOTO_ROW + "\n", GENERATED)
    iam = ListingIam({}, summary={"AccountAccessKeysPresent": 1, "AccountMFAEnabled": 0})

    # When the inventory is built from a live listing without carol
    inventory = collect_account_from_report(iam, "111111111111", NOW, report, [], 1, Deadline.unlimited())

    # Then root state came from one GetAccountSummary, and the deleted user is not reported
    assert iam.calls == ["GetAccountSummary"]
    assert (inventory.root_access_keys_present, inventory.root_mfa_enabled) == (True, False)
    assert not inventory.root_from_report
    assert inventory.users == ()


def test_a_user_deleted_between_listing_and_list_access_keys_is_dropped_not_the_account():
    # Given alice listed live, but ListAccessKeys answers NoSuchEntity (deleted a moment later)
    report = parse_credential_report(AWS_REPORT.encode(), GENERATED, generated_by_run=True)
    iam = ListingIam({})

    # When the inventory is built
    inventory = collect_account_from_report(
        iam, "111111111111", NOW, report, [ALICE], 1, Deadline.unlimited()
    )

    # Then alice is left out and the account is still inventoried
    assert inventory.users == ()
    assert iam.calls == ["ListAccessKeys:alice"]


def test_fetch_tells_a_report_this_run_generated_from_an_older_one():
    # Given IAM answering COMPLETE (a report under 4 hours old exists)
    class CachedIam(ScriptedIam):
        def generate_credential_report(self) -> dict:
            self.calls.append("Generate")
            return {"State": "COMPLETE"}

    # When the report is fetched, once from a cached report and once from a new one
    cached = fetch_credential_report(CachedIam(), Deadline.unlimited(), sleep=pytest.fail)
    fresh = fetch_credential_report(ScriptedIam(), Deadline.unlimited(), sleep=pytest.fail)

    # Then only the STARTED one counts as generated by this run
    assert (cached.generated_by_run, fresh.generated_by_run) == (False, True)
    assert cached.generated_at == GENERATED


SECOND = timedelta(seconds=1)


def test_two_keys_created_in_the_same_second_are_both_asked_of_the_api():
    # Given two keys created in the same second, so both slots carry the same creation time
    created = NOW - timedelta(days=30)
    slots = (
        ReportKey(1, True, created, NOW - timedelta(days=1), "s3", "us-east-1"),
        ReportKey(2, True, created, None, None, None),
    )
    asked: list[str] = []

    # When they are matched
    keys = match_keys(
        [metadata("AKIAFIRST00000000000", created), metadata("AKIASECOND0000000000", created)],
        slots,
        lambda key_id: asked.append(key_id) or KeyLastUse(NOW, "sts", "us-east-1"),
    )

    # Then no slot was guessed: both keys' last use came from GetAccessKeyLastUsed
    assert sorted(asked) == ["AKIAFIRST00000000000", "AKIASECOND0000000000"]
    assert [key.last_use_from_report for key in keys] == [False, False]


def test_the_newer_key_in_slot_1_gets_slot_1s_last_use():
    # Given a newer key in slot 1 (created a second after the key in slot 2)
    older, newer = NOW - timedelta(days=100), NOW - timedelta(days=100) + SECOND
    slots = (
        ReportKey(1, True, newer, None, None, None),
        ReportKey(2, True, older, NOW - timedelta(days=2), "ec2", "eu-west-1"),
    )

    # When they are matched
    keys = match_keys(
        [metadata("AKIAOLDER00000000000", older), metadata("AKIANEWER00000000000", newer)], slots, pytest.fail
    )

    # Then the older key carries slot 2's use and the newer one slot 1's "never used"
    by_id = {key.access_key_id: key.last_use for key in keys}
    assert by_id == {
        "AKIAOLDER00000000000": KeyLastUse(NOW - timedelta(days=2), "ec2", "eu-west-1"),
        "AKIANEWER00000000000": KeyLastUse(None),
    }


def test_a_slot_one_second_off_is_not_a_match():
    # Given a key whose creation is one second away from the only slot (no tolerance any more)
    created = NOW - timedelta(days=10)
    slots = (ReportKey(1, True, created + SECOND, None, None, None),)
    asked: list[str] = []

    # When it is matched
    (key,) = match_keys(
        [metadata("AKIAONLY000000000000", created)],
        slots,
        lambda key_id: asked.append(key_id) or KeyLastUse(NOW - timedelta(days=1), "s3", "us-east-1"),
    )

    # Then its last use was asked of the API rather than taken from the neighbouring slot
    assert asked == ["AKIAONLY000000000000"]
    assert key.last_use.used_at == NOW - timedelta(days=1)


def test_a_key_deleted_before_its_last_use_was_read_is_dropped():
    # Given a key the API no longer knows (GetAccessKeyLastUsed found nothing)
    keys = match_keys([metadata("AKIAGONE000000000000", NOW - timedelta(days=1))], (), lambda key_id: None)
    # Then it is not inventoried
    assert keys == ()
