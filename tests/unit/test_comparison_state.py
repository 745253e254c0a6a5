"""The comparison with the previous run pinned value by value: baseline reading, first seen, history rows."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from iam_inventory.models import (
    Account,
    AccountResult,
    AccountStatus,
    Finding,
    FindingChanges,
    RunContext,
    RunResult,
    Severity,
    Thresholds,
)
from iam_inventory.publish.changes import (
    Baseline,
    LocalRunStore,
    S3RunStore,
    change_counts,
    compare_runs,
    history_entry,
    load_baseline,
)
from iam_inventory.publish.report import finding_entry
from tests.builders import NOW

EARLIER = NOW - timedelta(days=30)


def finding(account_id: str, user: str) -> Finding:
    return Finding(
        finding_id=f"{account_id}-{user}",
        rule_id="console_user_without_mfa",
        severity=Severity.HIGH,
        cis_control="1.10",
        account_id=account_id,
        user_name=user,
        access_key_id=None,
        measured_value=0,
        threshold=1,
        unit="mfa_devices",
        message=f"User {user} has a console password and no MFA device",
    )


def run_result(findings: list[Finding], scanned: tuple[str, ...], failed: tuple[str, ...] = ()) -> RunResult:
    accounts = [AccountResult(Account(a), AccountStatus.SCANNED) for a in scanned]
    accounts += [AccountResult(Account(a), AccountStatus.FAILED, error_code="AccessDenied") for a in failed]
    context = RunContext("run-2", NOW, False, Thresholds(), "IAMListRole", "/", "manual")
    return RunResult(context=context, accounts=accounts, findings=findings, finished_at=NOW)


def test_resolved_carried_and_new_with_their_first_seen_times():
    # Given a previous run with findings in a scanned account (one gone now, one still there, one never
    # given a first-seen time) and in an account that failed this time
    kept, fixed, fixed_undated = finding("111", "kept"), finding("111", "fixed"), finding("111", "undated")
    away, away_undated = finding("222", "away"), finding("222", "undated")
    new = finding("111", "new")
    baseline = Baseline(
        run_id="run-1",
        folder="runs/1",
        findings=(kept, fixed, fixed_undated, away, away_undated),
        first_seen_at={kept.finding_id: EARLIER, fixed.finding_id: EARLIER, away.finding_id: EARLIER},
    )
    # When this run sees `kept` and `new` in the scanned account
    changes = compare_runs(run_result([kept, new], scanned=("111",), failed=("222",)), baseline)
    # Then gone findings of the scanned account are resolved, those of the failed one carried over
    assert changes == FindingChanges(
        previous_run_id="run-1",
        previous_folder="runs/1",
        new_ids=frozenset({new.finding_id}),
        resolved=(fixed, fixed_undated),
        first_seen_at={
            kept.finding_id: EARLIER,
            new.finding_id: NOW,
            fixed.finding_id: EARLIER,
            fixed_undated.finding_id: NOW,
            away.finding_id: EARLIER,
            away_undated.finding_id: NOW,
        },
        carried_over=(away, away_undated),
    )


def test_a_finding_still_present_in_an_account_scanned_is_neither_carried_nor_resolved():
    kept = finding("111", "kept")
    baseline = Baseline("run-1", "runs/1", (kept,), {kept.finding_id: EARLIER})
    changes = compare_runs(run_result([kept], scanned=("111",)), baseline)
    assert (changes.carried_over, changes.resolved, changes.new_ids) == ((), (), frozenset())


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (None, {"previous_run_id": None, "new": None, "resolved": None}),
        (
            FindingChanges("run-1", "runs/1", frozenset({"a", "b"}), (finding("111", "x"),), {}, ()),
            {"previous_run_id": "run-1", "new": 2, "resolved": 1},
        ),
    ],
)
def test_change_counts_for_the_run_summary(changes, expected):
    assert change_counts(changes) == expected


REPORT = {
    "run": {"run_id": "run-7", "started_at": "2026-11-23T06:00:00Z"},
    "summary": {
        "accounts": {"scanned": 3, "failed": 1},
        "findings": {"total": 5, "by_severity": {"critical": 1, "high": 0, "medium": 4, "low": 0}},
    },
    "changes": {"new": 2, "resolved": 3},
}


ROW = {
    "run_id": "run-7",
    "started_at": "2026-11-23T06:00:00Z",
    "accounts_scanned": 3,
    "accounts_failed": 1,
    "findings": 5,
    "by_severity": {"critical": 1, "high": 0, "medium": 4, "low": 0},
    "new": 2,
    "resolved": 3,
}


def test_history_row_holds_what_the_trend_chart_draws():
    assert history_entry(REPORT) == ROW


@pytest.mark.parametrize("changes", [None, {}])
def test_history_row_of_a_first_run_counts_nothing_new_or_resolved(changes):
    assert history_entry({**REPORT, "changes": changes}) == {**ROW, "new": 0, "resolved": 0}


class FakeS3:
    """get_object over a dict; a missing key raises NoSuchKey as S3 does when the role may ListBucket."""

    class exceptions:
        class NoSuchKey(Exception):
            pass

    class Body:
        def __init__(self, data: bytes) -> None:
            self.data = data

        def read(self) -> bytes:
            return self.data

    def __init__(self, objects: dict[tuple[str, str], bytes]) -> None:
        self.objects = objects

    def get_object(self, Bucket: str, Key: str) -> dict:
        if (Bucket, Key) not in self.objects:
            raise self.exceptions.NoSuchKey(Key)
        return {"Body": self.Body(self.objects[(Bucket, Key)])}


@pytest.mark.parametrize(
    ("prefix", "key"), [("iam-inventory", "iam-inventory/latest.json"), ("", "latest.json")]
)
def test_s3_store_reads_under_the_prefix_and_a_missing_key_is_none(prefix, key):
    store = S3RunStore(FakeS3({("reports", key): b"{}"}), "reports", prefix)
    assert store.read("latest.json") == b"{}"
    assert store.read("runs/x/report.json") is None


def test_local_store_reads_the_flat_file_named_like_the_key(tmp_path):
    (tmp_path / "report.json").write_bytes(b"{}")
    store = LocalRunStore(tmp_path)
    assert store.read("runs/dt=2026-11-23/run-1/report.json") == b"{}"
    assert store.read("runs/dt=2026-11-23/run-1/history.json") is None


class DictStore:
    def __init__(self, documents: dict[str, object]) -> None:
        self.documents = documents

    def read(self, key: str) -> bytes | None:
        return json.dumps(self.documents[key]).encode() if key in self.documents else None


def report_document(run_id: str, findings: list[Finding], changes: dict | None) -> dict:
    entries = [{**finding_entry(f), "first_seen_at": "2026-10-24T06:00:00Z"} for f in findings]
    return {"run": {"run_id": run_id}, "findings": entries, "changes": changes}


def test_baseline_carries_the_previous_findings_first_seen_and_history():
    # Given a previous run (a first run: no changes section) with its history
    kept = finding("111", "kept")
    store = DictStore(
        {
            "latest.json": {"folder": "runs/1"},
            "runs/1/report.json": report_document("run-1", [kept], None),
            "runs/1/history.json": {"runs": [{"run_id": "run-0"}, {"run_id": "run-1"}]},
        }
    )
    # When this run reads it
    baseline = load_baseline(store, "run-2")
    # Then everything a comparison and the trend chart need is there
    assert baseline == Baseline(
        run_id="run-1",
        folder="runs/1",
        findings=(kept,),
        first_seen_at={kept.finding_id: NOW - timedelta(days=30)},
        history=({"run_id": "run-0"}, {"run_id": "run-1"}),
    )


def test_a_previous_run_without_history_still_gives_a_baseline():
    kept = finding("111", "kept")
    store = DictStore(
        {"latest.json": {"folder": "runs/1"}, "runs/1/report.json": report_document("run-1", [kept], {})}
    )
    baseline = load_baseline(store, "run-2")
    assert baseline is not None
    assert (baseline.findings, baseline.history) == ((kept,), ())


def test_a_run_is_never_compared_with_itself():
    # Given latest.json pointing at this run's folder, whose previous folder is this run again
    store = DictStore(
        {
            "latest.json": {"folder": "runs/2b"},
            "runs/2b/report.json": report_document("run-2", [], {"previous_folder": "runs/2a"}),
            "runs/2a/report.json": report_document("run-2", [finding("111", "x")], None),
        }
    )
    assert load_baseline(store, "run-2") is None


def test_an_unreadable_previous_run_is_logged_with_its_error(caplog):
    # Given latest.json that is not JSON
    store = DictStore({})
    store.read = lambda key: b"{not json"  # type: ignore[method-assign]
    # When the baseline is read
    with caplog.at_level(logging.WARNING):
        assert load_baseline(store, "run-2") is None
    # Then one warning says why every finding will count as new, with the parser's error
    (record,) = caplog.records
    assert (record.levelname, record.getMessage()) == (
        "WARNING",
        "previous run not readable; every finding counts as new",
    )
    assert record.error == "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
