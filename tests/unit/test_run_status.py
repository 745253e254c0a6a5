"""Run status, which runs move latest.json, manual/ runs, failed runs and the summary's account lists."""

from __future__ import annotations

from dataclasses import replace

import pytest

from iam_inventory.evaluate.changes import RunStatus, becomes_baseline, run_status
from iam_inventory.models import AccountStatus, Thresholds
from iam_inventory.pipeline.outcome import run_summary
from tests.builders import make_key, make_user
from tests.publish_support import context, finalize, read_json, scanned, unscanned

S, F, K, N = AccountStatus.SCANNED, AccountStatus.FAILED, AccountStatus.SKIPPED, AccountStatus.NOT_SCANNED


@pytest.mark.parametrize(
    ("statuses", "expected", "reason"),
    [
        ({S: 3}, RunStatus.COMPLETE, ""),
        ({S: 3, K: 5}, RunStatus.COMPLETE, ""),
        ({S: 2, F: 1}, RunStatus.DEGRADED, "1 of 3 accounts failed or were not scanned"),
        # exactly half: not above the fraction
        ({S: 1, N: 1}, RunStatus.DEGRADED, "1 of 2 accounts failed or were not scanned"),
        (
            {S: 1, F: 1, N: 1},
            RunStatus.FAILED,
            "2 of 3 accounts failed or were not scanned (more than 50%)",
        ),
        ({F: 2}, RunStatus.FAILED, "no account was scanned (2 failed or not scanned)"),
        ({N: 1}, RunStatus.FAILED, "no account was scanned (1 failed or not scanned)"),
        # nothing in scope was scanned: skipped accounts (suspended, the hub) are not in scope
        ({K: 2}, RunStatus.FAILED, "no account was in scope"),
        ({}, RunStatus.FAILED, "no account was in scope"),
    ],
)
def test_run_status_from_account_statuses(statuses, expected, reason):
    # The reason is what the summary, the report and the CLI show for a run that is not complete
    assert run_status(statuses, 0.5) == (expected, reason)


def test_failed_fraction_is_configurable_and_explained():
    status, reason = run_status({S: 9, F: 1}, 0.05)
    assert status is RunStatus.FAILED
    assert reason == "1 of 10 accounts failed or were not scanned (more than 5%)"


@pytest.mark.parametrize(
    ("trigger", "extra", "status", "expected"),
    [
        ("schedule", {}, RunStatus.COMPLETE, True),
        ("schedule", {}, RunStatus.DEGRADED, True),
        ("schedule", {}, RunStatus.FAILED, False),
        ("manual", {}, RunStatus.COMPLETE, False),
        ("manual", {"baseline_requested": True}, RunStatus.COMPLETE, True),
        ("manual", {"baseline_requested": True}, RunStatus.FAILED, False),
        ("schedule", {"overrides": ("thresholds",)}, RunStatus.COMPLETE, False),
        ("schedule", {"dry_run": True}, RunStatus.COMPLETE, False),
    ],
)
def test_only_trustworthy_scheduled_or_requested_runs_become_the_baseline(trigger, extra, status, expected):
    # (the parameters are not popped: mutmut runs each test more than once in one process)
    fields = {name: value for name, value in extra.items() if name != "dry_run"}
    run = replace(context("r", trigger=trigger, **fields), dry_run=extra.get("dry_run", False))
    assert becomes_baseline(run, status) is expected


PROD, DEV, HUB = "111111111111", "222222222222", "333333333333"


def estate():
    return [
        scanned(PROD, make_user("deployer", keys=(make_key("AKIAOLD0000000000001", age=200),))),
        scanned(DEV, make_user("ci", keys=(make_key("AKIADEV0000000000001", age=60),))),
        unscanned(HUB, K, "HubAccount"),
    ]


def test_an_all_failed_run_is_published_apart_and_leaves_latest_on_the_good_run(tmp_path):
    # Given a good scheduled run
    finalize(tmp_path, context("good"), estate())
    # When every account fails the next scheduled run (say, a wrong ExternalId)
    failing = [
        unscanned(PROD, F, "AccessDenied"),
        unscanned(DEV, F, "AccessDenied"),
        unscanned(HUB, K, "HubAccount"),
    ]
    outcome = finalize(tmp_path, context("bad", day=1), failing)
    # Then the run is failed, published under its own folder, and latest.json still names the good run
    assert (outcome.status.value, outcome.baseline) == ("failed", False)
    assert read_json(tmp_path, "latest.json")["run_id"] == "good"
    assert (tmp_path / "runs/dt=2026-11-24/bad/state.jsonl.gz").is_file()
    # And the good run's files in the output folder are left as they were
    assert read_json(tmp_path, "report.json")["run"]["run_id"] == "good"
    # And its own page opens with a banner saying why, linking to the good run's page
    page = (tmp_path / "runs/dt=2026-11-24/bad/index.html").read_text()
    assert page.index('id="banner-failed"') < page.index("<h1>")
    assert "no account was scanned (2 failed or not scanned)" in page
    assert 'href="../../../runs/dt=2026-11-23/good/index.html"' in page
    # And the summary lists the failed accounts, never the skipped hub
    summary = run_summary(outcome)
    assert [item["account_id"] for item in summary["failed_accounts"]] == [PROD, DEV]
    assert summary["skipped_accounts"] == [{"account_id": HUB, "reason": "HubAccount"}]
    # And the next good run still compares with the good one: nothing resolved, nothing new
    after = finalize(tmp_path, context("after", day=2), estate())
    assert after.changes == {"previous_run_id": "good", "new": 0, "resolved": 0}


def test_a_manual_run_with_overrides_goes_under_manual_and_never_becomes_the_baseline(tmp_path):
    # Given a scheduled run
    finalize(tmp_path, context("sched-1"), estate())
    # When a manual run with stricter thresholds scans one account
    strict = context(
        "manual-1",
        day=1,
        trigger="manual",
        thresholds=Thresholds(max_key_age_days=30),
        overrides=("accounts", "thresholds"),
    )
    strict_scans = [scanned(PROD, make_user("deployer", keys=(make_key(age=40),)), run=strict)]
    outcome = finalize(tmp_path, strict, strict_scans)
    # Then it is published under manual/ and latest.json stays on the scheduled run
    assert outcome.folder == "manual/runs/dt=2026-11-24/manual-1"
    assert (tmp_path / outcome.folder / "state.jsonl.gz").is_file()
    assert read_json(tmp_path, "latest.json")["run_id"] == "sched-1"
    # And the next scheduled run compares with the previous scheduled one: no spurious resolved
    following = finalize(tmp_path, context("sched-2", day=2), estate())
    assert following.changes == {"previous_run_id": "sched-1", "new": 0, "resolved": 0}
    assert read_json(tmp_path, "latest.json")["run_id"] == "sched-2"


def test_a_plain_manual_run_is_not_the_baseline_unless_it_asks(tmp_path):
    finalize(tmp_path, context("sched-1"), estate())
    plain = finalize(tmp_path, context("manual-1", day=1, trigger="manual"), estate())
    assert (plain.folder, plain.baseline) == ("runs/dt=2026-11-24/manual-1", False)
    assert read_json(tmp_path, "latest.json")["run_id"] == "sched-1"
    asked = finalize(
        tmp_path, context("manual-2", day=1, trigger="manual", baseline_requested=True), estate()
    )
    assert asked.baseline is True
    assert read_json(tmp_path, "latest.json")["run_id"] == "manual-2"


def test_a_failed_retry_of_the_baseline_run_does_not_overwrite_its_files(tmp_path):
    # Given a good scheduled run, which latest.json names
    finalize(tmp_path, context("sched-1"), estate())
    good_report = (tmp_path / "report.json").read_bytes()
    state = tmp_path / "runs/dt=2026-11-23/sched-1/state.jsonl.gz"
    good_state = state.read_bytes()
    # When the same run id is retried and every account fails this time
    failing = [unscanned(PROD, F, "AccessDenied"), unscanned(DEV, F, "AccessDenied")]
    retry = finalize(tmp_path, context("sched-1"), failing)
    # Then nothing is published over the good run, and the outcome says it failed
    assert (retry.status.value, retry.published) == ("failed", {})
    assert (tmp_path / "report.json").read_bytes() == good_report
    assert state.read_bytes() == good_state
    assert read_json(tmp_path, "latest.json")["run_id"] == "sched-1"
