"""Fault injection: the job keeps working, loses nothing and fails only what it must."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import boto3
import botocore.retries.standard
import pytest
from botocore.exceptions import ClientError

from iam_inventory.entrypoints import handlers as handler
from iam_inventory_sim import DEMO_EXTERNAL_ID, AccountSpec, Fault, KeySpec, SimRequest, UserSpec
from iam_inventory_sim import expected_findings as planted_findings
from tests.builders import NOW
from tests.integration.conftest import read_s3_json
from tests.integration.faultkit import (
    MODES,
    InjectedFaults,
    assert_run_invariants,
    baseline_event,
    invoke,
    manual_event,
    run_report,
    s3_keys,
    server_error_burst,
    throttling_storm,
)

MAX_ATTEMPTS = 8
EXTERNAL_ID_PARAMETER = "/iam-inventory/external-id"


def users(prefix: str, count: int) -> tuple[UserSpec, ...]:
    """Users with one healthy key each, plus findings-bearing ones, so data loss would show."""
    healthy = tuple(UserSpec(f"{prefix}-{i:02d}", keys=(KeySpec(10, 1),)) for i in range(count))
    return (
        *healthy,
        UserSpec(f"{prefix}-old", keys=(KeySpec(200, 1, expect=frozenset({"access_key_too_old"})),)),
        UserSpec(f"{prefix}-web", console=True, expect=frozenset({"console_user_without_mfa"})),
    )


ESTATE = (
    AccountSpec("111111111111", "prod", users=users("prod", 12), root_access_key=True),
    AccountSpec("222222222222", "dev", users=users("dev", 8)),
    AccountSpec("333333333333", "data", users=users("data", 5)),
    AccountSpec("444444444444", "no-role", role="missing"),
    AccountSpec("555555555555", "other-external-id", role="wrong_external_id"),
)
REACHABLE = ("111111111111", "222222222222", "333333333333")


@pytest.fixture
def no_backoff(monkeypatch):
    """Retry decisions stay botocore's own; only the sleep between attempts is cut to zero."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0.0)


@pytest.fixture
def sequential_api_path(monkeypatch):
    """One call at a time on the per-user API path, so a fault after N calls hits a known call.

    Session renewal lives in scan_account, above either collection path; the credential report's
    concurrent ListAccessKeys would let several in-flight calls see the same expiry.
    """
    monkeypatch.setenv("COLLECTION_MODE", "api")
    monkeypatch.setenv("ACCOUNT_CONCURRENCY", "1")


@pytest.fixture
def estate(simulator, seed, report_bucket, monkeypatch, no_backoff):
    """ESTATE seeded, the ExternalId in SSM, the handler configured like the template (standard retries)."""
    key_ids = seed(ESTATE)
    boto3.client("ssm").put_parameter(Name=EXTERNAL_ID_PARAMETER, Value=DEMO_EXTERNAL_ID, Type="SecureString")
    monkeypatch.setenv("EXTERNAL_ID_PARAMETER", EXTERNAL_ID_PARAMETER)
    monkeypatch.setenv("REPORT_BUCKET", report_bucket)
    monkeypatch.setenv("WORKERS", "4")
    # Adaptive mode would also rate-limit client-side (real sleeps); standard keeps the retries and counts.
    monkeypatch.setenv("RETRY_MODE", "standard")
    monkeypatch.setenv("MAX_ATTEMPTS", str(MAX_ATTEMPTS))
    monkeypatch.setattr(handler, "utcnow", lambda: NOW)
    return key_ids


def found(report: dict, accounts: tuple[str, ...] = REACHABLE) -> set[tuple]:
    """(account, user, key, rule) of every finding in the given accounts."""
    return {
        (f["account_id"], f["user_name"], f["access_key_id"], f["rule_id"])
        for f in report["findings"]
        if f["account_id"] in accounts
    }


def planted(key_ids: dict, accounts: tuple[str, ...] = REACHABLE) -> set[tuple]:
    """The findings seeded into the given accounts."""
    return planted_findings([spec for spec in ESTATE if spec.account_id in accounts], key_ids)


def assert_complete(report: dict, key_ids: dict, accounts: tuple[str, ...] = REACHABLE) -> None:
    """Every seeded user and key of `accounts` is in the inventory, with exactly the planted findings."""
    inventory = {entry["account_id"]: entry for entry in report["inventory"]}
    for spec in ESTATE:
        if spec.account_id not in accounts:
            continue
        entry = inventory[spec.account_id]
        assert {user["user_name"] for user in entry["users"]} == {user.name for user in spec.users}
        collected_keys = {key["access_key_id"] for user in entry["users"] for key in user["access_keys"]}
        seeded_keys = {key_id for (account, _, _), key_id in key_ids.items() if account == spec.account_id}
        assert collected_keys == seeded_keys
        assert entry["root_access_keys_present"] is spec.root_access_key
    assert found(report, accounts) == planted(key_ids, accounts)


def iam_requests(simulator) -> int:
    """IAM requests the simulator has received so far."""
    return sum(count for op, count in simulator.faults.operations.items() if op.startswith("iam:"))


def statuses(report: dict) -> dict[str, tuple[str, str | None]]:
    return {entry["account_id"]: (entry["status"], entry["error_code"]) for entry in report["accounts"]}


def deny_assume_role(account_id: str) -> InjectedFaults:
    """STS refuses AssumeRole into one account (an SCP or permission boundary in the way)."""

    def decide(request: SimRequest, _arrival: int) -> Fault | None:
        if request.action == "AssumeRole" and f":{account_id}:" in request.params.get("RoleArn", ""):
            arn = request.params["RoleArn"]
            return Fault("AccessDenied", f"Not authorized to perform sts:AssumeRole on resource: {arn}", 403)
        return None

    return InjectedFaults(decide)


@pytest.mark.parametrize(
    ("bad_account", "inject_denial"),
    [
        pytest.param("222222222222", True, id="access-denied-on-assume-role"),
        pytest.param("555555555555", False, id="wrong-external-id"),
        pytest.param("444444444444", False, id="role-missing"),
    ],
)
@pytest.mark.parametrize("mode", MODES)
def test_an_account_that_refuses_assume_role_fails_alone(
    estate, simulator, report_bucket, lambda_context, bad_account, inject_denial, mode
):
    # Given one account whose role cannot be assumed, next to two healthy ones
    if inject_denial:
        simulator.faults.rules.append(deny_assume_role(bad_account))
    accounts = ("111111111111", bad_account, "333333333333")

    # When the job runs
    summary = invoke(manual_event("denied", accounts), lambda_context, mode)

    # Then that account is failed with AccessDenied naming the role, and every other account is complete
    report = run_report(report_bucket, "denied")
    assert_run_invariants(report, accounts)
    assert statuses(report) == {
        "111111111111": ("scanned", None),
        bad_account: ("failed", "AccessDenied"),
        "333333333333": ("scanned", None),
    }
    failed = next(entry for entry in report["accounts"] if entry["account_id"] == bad_account)
    assert f"arn:aws:iam::{bad_account}:role/IAMListRole" in failed["error_message"]
    assert failed["error_message"].startswith("assume_role: ")
    assert_complete(report, estate, ("111111111111", "333333333333"))
    assert summary["failed_accounts"] == [{"account_id": bad_account, "error_code": "AccessDenied"}]


def test_throttling_storm_completes_with_every_retry_counted(
    estate, simulator, report_bucket, lambda_context
):
    # Given 30 % of IAM calls answered Throttling (seeded, repeatable)
    storm = throttling_storm(rate=0.3, seed=20261123)
    simulator.faults.rules.append(storm)
    seeding_requests = iam_requests(simulator)

    # When the job runs over the three reachable accounts
    invoke(manual_event("storm", REACHABLE), lambda_context)

    # Then the data is complete: every user, every key, exactly the planted findings
    report = run_report(report_bucket, "storm")
    assert_run_invariants(report, REACHABLE)
    assert {status for status, _ in statuses(report).values()} == {"scanned"}
    assert_complete(report, estate)

    # And every throttled answer shows up as one retry, per account and in the summary
    retried = {entry["account_id"]: entry["retried_calls"] for entry in report["accounts"]}
    assert retried == {account: storm.injected[account] for account in REACHABLE}
    assert all(count > 0 for count in retried.values())
    assert report["summary"]["retried_calls"] == sum(storm.injected.values())
    sent = iam_requests(simulator) - seeding_requests
    iam_calls = sum(entry["api_calls"] - 1 for entry in report["accounts"])  # less the AssumeRole each
    assert sent == iam_calls + sum(storm.injected.values())
    # Roughly the configured rate: a broken rule (0 % or 100 %) would fail here.
    assert 0.2 < sum(storm.injected.values()) / sent < 0.4


@pytest.mark.parametrize("mode", MODES)
def test_5xx_burst_is_retried_through(estate, simulator, report_bucket, lambda_context, mode):
    # Given every account's IAM requests 3 to 7 answered with alternating 503/500
    burst = server_error_burst(first=3, length=5)
    simulator.faults.rules.append(burst)

    # When
    invoke(manual_event("burst", REACHABLE), lambda_context, mode)

    # Then nothing is lost and each account retried exactly the five failed attempts
    report = run_report(report_bucket, "burst")
    assert_run_invariants(report, REACHABLE)
    assert_complete(report, estate)
    assert {entry["account_id"]: entry["retried_calls"] for entry in report["accounts"]} == dict.fromkeys(
        REACHABLE, 5
    )
    assert report["summary"]["retried_calls"] == 15


@pytest.mark.parametrize("mode", MODES)
def test_sustained_5xx_fails_that_account_after_max_attempts(
    estate, simulator, report_bucket, lambda_context, mode
):
    # Given one account whose IAM answers 503 to everything
    outage = server_error_burst(first=1, length=10_000, accounts=["222222222222"], alternate=False)
    simulator.faults.rules.append(outage)

    # When
    invoke(manual_event("outage", REACHABLE), lambda_context, mode)

    # Then that account fails with the service's error code after exactly MAX_ATTEMPTS attempts
    report = run_report(report_bucket, "outage")
    assert_run_invariants(report, REACHABLE)
    assert statuses(report)["222222222222"] == ("failed", "ServiceUnavailable")
    dev = next(entry for entry in report["accounts"] if entry["account_id"] == "222222222222")
    assert dev["retried_calls"] == MAX_ATTEMPTS - 1
    assert outage.injected["222222222222"] == MAX_ATTEMPTS
    # And the others are complete
    assert_complete(report, estate, ("111111111111", "333333333333"))


def hang(where: str, account_id: str) -> InjectedFaults:
    """Hold one account's AssumeRole or IAM requests for a second, then drop them."""

    def decide(request: SimRequest, _arrival: int) -> Fault | None:
        if where == "assume_role":
            hit = request.action == "AssumeRole" and f":{account_id}:" in request.params.get("RoleArn", "")
        else:
            hit = request.service == "iam" and request.caller_account == account_id
        return Fault("Hung", "never answered in time", hang_seconds=1.0) if hit else None

    return InjectedFaults(decide)


@pytest.mark.parametrize("stage", ["assume_role", "collect"])
def test_hanging_spoke_fails_with_timeout_instead_of_stalling(
    estate, simulator, report_bucket, lambda_context, monkeypatch, stage
):
    # Given a 0.2 s read timeout, two attempts, and one account whose requests hang for 1 s
    monkeypatch.setenv("READ_TIMEOUT_SECONDS", "0.2")
    monkeypatch.setenv("MAX_ATTEMPTS", "2")
    hung = hang(stage, "333333333333")
    simulator.faults.rules.append(hung)

    # When
    invoke(manual_event("hang", REACHABLE), lambda_context)

    # Then that account fails with Timeout at the stage that hung; the others are complete
    report = run_report(report_bucket, "hang")
    assert_run_invariants(report, REACHABLE)
    assert statuses(report)["333333333333"] == ("failed", "Timeout")
    data = next(entry for entry in report["accounts"] if entry["account_id"] == "333333333333")
    assert data["error_message"].startswith(f"{stage}: ")
    assert sum(hung.injected.values()) == 2  # both attempts timed out, no third one
    assert_complete(report, estate, ("111111111111", "222222222222"))


def expire_sessions(
    account_id: str, after_calls: int, sessions: int | None
) -> tuple[InjectedFaults, Counter]:
    """Answer ExpiredToken once a spoke session made `after_calls` IAM calls (only the first `sessions`)."""
    calls_by_key: Counter[str] = Counter()
    order: list[str] = []
    lock = threading.Lock()

    def decide(request: SimRequest, _arrival: int) -> Fault | None:
        if request.service != "iam" or request.caller_account != account_id:
            return None
        with lock:
            if request.access_key_id not in order:
                order.append(request.access_key_id)
            calls_by_key[request.access_key_id] += 1
            expiring = sessions is None or order.index(request.access_key_id) < sessions
            expired = expiring and calls_by_key[request.access_key_id] > after_calls
        if expired:
            return Fault("ExpiredToken", "The security token included in the request is expired", status=403)
        return None

    return InjectedFaults(decide), calls_by_key


def assume_role_calls(simulator, account_id: str) -> list[str]:
    """Install a recorder of AssumeRole calls into one account."""
    seen: list[str] = []

    def record(request: SimRequest) -> None:
        if request.action == "AssumeRole" and f":{account_id}:" in request.params.get("RoleArn", ""):
            seen.append(request.params["RoleSessionName"])

    simulator.faults.rules.insert(0, record)
    return seen


@pytest.mark.parametrize("mode", MODES)
def test_credentials_expiring_mid_account_are_renewed_once(
    estate, simulator, report_bucket, lambda_context, sequential_api_path, mode
):
    # Given the first session into 111111111111 expiring after 6 IAM calls
    assumed = assume_role_calls(simulator, "111111111111")
    expiry, calls_by_key = expire_sessions("111111111111", after_calls=6, sessions=1)
    simulator.faults.rules.append(expiry)

    # When
    invoke(manual_event("expiry", REACHABLE), lambda_context, mode)

    # Then the job assumed the role a second time and the account is complete, without duplicates
    report = run_report(report_bucket, "expiry")
    assert_run_invariants(report, REACHABLE)
    assert {status for status, _ in statuses(report).values()} == {"scanned"}
    assert len(assumed) == 2
    assert len(calls_by_key) == 2  # two distinct sessions did the work
    assert expiry.injected["111111111111"] == 1  # ExpiredToken is not retried with the same session
    assert_complete(report, estate)


def test_credentials_that_keep_expiring_fail_the_account_after_one_renewal(
    estate, simulator, report_bucket, lambda_context, sequential_api_path
):
    # Given every session into 111111111111 expiring after 6 IAM calls
    assumed = assume_role_calls(simulator, "111111111111")
    expiry, _ = expire_sessions("111111111111", after_calls=6, sessions=None)
    simulator.faults.rules.append(expiry)

    # When
    invoke(manual_event("expiry", REACHABLE), lambda_context)

    # Then the account fails with ExpiredToken after exactly one renewal; the others are complete
    report = run_report(report_bucket, "expiry")
    assert_run_invariants(report, REACHABLE)
    assert statuses(report)["111111111111"] == ("failed", "ExpiredToken")
    assert len(assumed) == 2
    prod = next(entry for entry in report["accounts"] if entry["account_id"] == "111111111111")
    assert prod["error_message"].startswith("collect: ")
    assert prod["api_calls"] == 2 * 7 + 2  # two sessions of 6 good + 1 expired call, and two AssumeRole
    assert_complete(report, estate, ("222222222222", "333333333333"))


def test_expired_hub_credentials_are_not_cured_by_assuming_again(
    estate, simulator, report_bucket, lambda_context
):
    # Given STS answering ExpiredToken to the hub's AssumeRole into one account
    assumed = assume_role_calls(simulator, "222222222222")
    simulator.faults.rules.append(
        lambda request: (
            Fault("ExpiredToken", "The security token included in the request is expired", 403)
            if request.action == "AssumeRole" and ":222222222222:" in request.params.get("RoleArn", "")
            else None
        )
    )

    # When
    invoke(manual_event("hub-expired", REACHABLE), lambda_context)

    # Then that account fails at assume_role after one attempt; renewal is only for spoke sessions
    report = run_report(report_bucket, "hub-expired")
    assert_run_invariants(report, REACHABLE)
    assert statuses(report)["222222222222"] == ("failed", "ExpiredToken")
    assert len(assumed) == 1
    assert_complete(report, estate, ("111111111111", "333333333333"))


def fail_put_object(file_name: str, times: int | None) -> InjectedFaults:
    """Answer PutObject of one file with 500 InternalError (the first `times` attempts, or always)."""

    def decide(request: SimRequest, _arrival: int) -> Fault | None:
        if (
            request.service == "s3"
            and request.action.startswith("PUT ")
            and request.action.endswith(file_name)
        ):
            failures = decide.count = getattr(decide, "count", 0) + 1
            if times is None or failures <= times:
                return Fault("InternalError", "We encountered an internal error.", status=500, sender=False)
        return None

    return InjectedFaults(decide)


def put_attempts(simulator) -> int:
    """PutObject attempts of published files (the scan store's .json.gz documents are not counted)."""
    return sum(
        count
        for op, count in simulator.faults.operations.items()
        if op.startswith("s3:PUT ") and not op.endswith(".json.gz")
    )


def test_put_object_failures_are_retried(estate, simulator, report_bucket, lambda_context, monkeypatch):
    # Given the first two PutObject attempts of report.json failing
    simulator.faults.rules.append(fail_put_object("report.json", times=2))
    monkeypatch.setenv("ACCOUNT_IDS", ",".join(REACHABLE))
    before = put_attempts(simulator)

    # When a run that should become the baseline publishes
    summary = invoke(baseline_event("flaky-s3"), lambda_context)

    # Then the run is published completely, after two retried attempts
    assert summary["published"]["latest.json"].endswith("iam-inventory/latest.json")
    latest = read_s3_json(report_bucket, "iam-inventory/latest.json")
    assert latest["run_id"] == "flaky-s3"
    assert {f"iam-inventory/{key}" for key in latest["files"].values()} <= s3_keys(report_bucket)
    # run files + the commit (two Athena manifests, the runs row) + latest.json + retries
    assert put_attempts(simulator) - before == len(latest["files"]) + 3 + 1 + 2


def assert_latest_points_at_complete_run(bucket: str) -> dict | None:
    """latest.json, if present, names only files that exist."""
    keys = s3_keys(bucket)
    if "iam-inventory/latest.json" not in keys:
        return None
    latest = read_s3_json(bucket, "iam-inventory/latest.json")
    assert {f"iam-inventory/{key}" for key in latest["files"].values()} <= keys
    return latest


@pytest.mark.parametrize("failing_file", ["report.json", "findings.csv", "latest.json"])
def test_put_object_that_keeps_failing_fails_the_invocation_and_keeps_latest(
    estate, simulator, report_bucket, lambda_context, failing_file, monkeypatch
):
    # Given a first baseline run published normally
    monkeypatch.setenv("ACCOUNT_IDS", ",".join(REACHABLE))
    invoke(baseline_event("run-a"), lambda_context)
    assert assert_latest_points_at_complete_run(report_bucket)["run_id"] == "run-a"

    # And S3 failing every PutObject of one file of the next run
    simulator.faults.rules.append(fail_put_object(failing_file, times=None))
    before = put_attempts(simulator)

    # When the next run publishes, the invocation fails loudly (Lambda's async retry and the
    # failure destination then take over)
    with pytest.raises(ClientError) as raised:
        invoke(baseline_event("run-b"), lambda_context)
    assert raised.value.response["Error"]["Code"] == "InternalError"

    # And that file was tried MAX_ATTEMPTS times, and nothing was written after it
    # The run folder and its Athena commit files (named after the run id) alike; the scan store aside.
    written = sorted(key for key in s3_keys(report_bucket) if "run-b" in key and not key.endswith(".json.gz"))
    assert not any(key.endswith(failing_file) for key in written)
    assert simulator.faults.rules[-1].injected["123456789012"] == MAX_ATTEMPTS
    assert put_attempts(simulator) - before == len(written) + MAX_ATTEMPTS

    # And latest.json still points at run-a, whose files are all there
    latest = assert_latest_points_at_complete_run(report_bucket)
    assert latest["run_id"] == "run-a"


def test_first_run_that_cannot_publish_leaves_no_latest(
    estate, simulator, report_bucket, lambda_context, monkeypatch
):
    # Given S3 refusing findings.csv and no earlier run
    simulator.faults.rules.append(fail_put_object("findings.csv", times=None))
    monkeypatch.setenv("ACCOUNT_IDS", ",".join(REACHABLE))
    # When / Then the invocation fails and no latest.json exists to point at the partial run
    with pytest.raises(ClientError):
        invoke(baseline_event("first"), lambda_context)
    assert "iam-inventory/latest.json" not in s3_keys(report_bucket)


LARGE_USERS = 5_000
LARGE_ACCOUNT = "666666666666"


def seed_bulk_account(seed, users: int) -> set[str]:
    """An account of `users` users, four in five with a recently used key, seeded straight into moto."""
    from moto.iam.models import AccessKeyLastUsed, iam_backends

    seed((AccountSpec(LARGE_ACCOUNT, "large"),))
    backend = iam_backends[LARGE_ACCOUNT]["aws"]
    naive_now = NOW.replace(tzinfo=None)
    key_ids = set()
    for index in range(users):
        name = f"user-{index:05d}"
        backend.create_user(region_name="us-east-1", user_name=name, path="/bulk/")
        if index % 5:
            key = backend.create_access_key(name)
            key.create_date = naive_now - timedelta(days=10)
            key.last_used = AccessKeyLastUsed(
                timestamp=naive_now - timedelta(days=1), service="s3", region="us-east-1"
            )
            key_ids.add(key.access_key_id)
    return key_ids


def assert_bulk_account_complete(report: dict, users: int, key_ids: set[str]) -> None:
    assert_run_invariants(report, [LARGE_ACCOUNT])
    assert statuses(report) == {LARGE_ACCOUNT: ("scanned", None)}
    users_found = report["inventory"][0]["users"]
    assert len(users_found) == users
    assert {user["user_name"] for user in users_found} == {f"user-{i:05d}" for i in range(users)}
    assert {key["access_key_id"] for user in users_found for key in user["access_keys"]} == key_ids
    assert report["summary"]["access_keys"] == len(key_ids) == users * 4 // 5
    assert report["findings"] == []


@pytest.fixture
def bulk_configured(report_bucket, monkeypatch):
    monkeypatch.setenv("REPORT_BUCKET", report_bucket)
    monkeypatch.setenv("EXTERNAL_ID", DEMO_EXTERNAL_ID)
    # Routing tags would add one ListUserTags per user; they are not what these tests measure.
    monkeypatch.setenv("USER_TAG_KEYS", "none")
    monkeypatch.setattr(handler, "utcnow", lambda: NOW)


def test_very_large_account_is_inventoried_completely(
    simulator, seed, report_bucket, lambda_context, bulk_configured
):
    # Given an account of 5,000 users, 4,000 of them with a key
    key_ids = seed_bulk_account(seed, LARGE_USERS)
    simulator.faults.operations.clear()

    # When the job scans it as deployed (credential-report fast path)
    invoke(manual_event("large", [LARGE_ACCOUNT]), lambda_context)

    # Then every user and every key is in the report
    assert_bulk_account_complete(run_report(report_bucket, "large"), LARGE_USERS, key_ids)
    # And each user with a key had its keys listed exactly once, nobody else
    assert simulator.faults.operations["iam:ListAccessKeys"] == len(key_ids)


@pytest.mark.parametrize("operation", ["GetAccountAuthorizationDetails", "ListUsers"])
def test_api_path_follows_every_user_listing_marker(
    simulator, seed, report_bucket, lambda_context, bulk_configured, monkeypatch, operation
):
    # Given 250 users, listed 100 a page (IAM may return fewer than MaxItems even when more remain),
    # with GetAccountAuthorizationDetails, or with ListUsers on an older spoke role that lacks it
    key_ids = seed_bulk_account(seed, 250)
    monkeypatch.setenv("COLLECTION_MODE", "api")
    monkeypatch.setattr("iam_inventory.collect.users.PAGE_SIZE", 100)
    page_sizes: list[int] = []

    def record(request: SimRequest) -> Fault | None:
        if request.action == "GetAccountAuthorizationDetails" and operation == "ListUsers":
            return Fault("AccessDenied", "not authorized to perform: iam:GetAccountAuthorizationDetails", 403)
        if request.action == operation:
            page_sizes.append(int(request.params.get("MaxItems", 0)))
        return None

    simulator.faults.rules.append(record)

    # When the job scans it
    invoke(manual_event("paged", [LARGE_ACCOUNT]), lambda_context)

    # Then every user is in the report, read across every page
    assert_bulk_account_complete(run_report(report_bucket, "paged"), 250, key_ids)
    assert page_sizes == [100, 100, 100]
