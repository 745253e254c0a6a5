"""Comparison state: new/resolved from the previous run's state document, carry-over, damage, retries."""

from __future__ import annotations

import gzip
import json

import pytest

from iam_inventory.compare.state import STATE_FILE
from iam_inventory.models import AccountStatus
from iam_inventory.publish.channels.sns import NewFindings, render_notification
from tests.builders import make_key, make_user
from tests.publish_support import FakeFactory, context, finalize, read_json, scanned, unscanned

PROD, DEV = "111111111111", "222222222222"
OLD_KEY = make_key("AKIAOLD0000000000001", age=200)


def prod(*extra_users):
    return scanned(PROD, make_user("deployer", keys=(OLD_KEY,)), *extra_users)


def mallory():
    return make_user("mallory", console=True)


def state_lines(tmp_path, run) -> list[dict]:
    folder = read_json(tmp_path, "latest.json")["folder"] if run is None else run
    with gzip.open(tmp_path / folder / STATE_FILE) as stream:
        return [json.loads(line) for line in stream]


def test_first_run_has_no_baseline_and_every_finding_is_new(tmp_path):
    # When a first scheduled run is finalized
    outcome = finalize(tmp_path, context("run-1"), [prod()])
    # Then the state says "none", every finding is new, and the run became the baseline
    assert outcome.comparison_state["status"] == "none"
    assert outcome.changes == {"previous_run_id": None, "new": 1, "resolved": 0}
    assert (outcome.status.value, outcome.baseline) == ("complete", True)
    # And its state document holds a versioned header and one line per finding
    header, *entries = state_lines(tmp_path, None)
    assert (header["kind"], header["schema_version"], header["run_id"]) == (
        "iam-inventory/comparison-state",
        "1.0",
        "run-1",
    )
    assert [(e["finding"]["rule_id"], e["first_seen_at"], e["missed_runs"]) for e in entries] == [
        ("access_key_too_old", "2026-11-23T06:00:00Z", 0)
    ]


def test_second_run_reports_new_and_resolved_and_keeps_first_seen(tmp_path):
    # Given a first run
    finalize(tmp_path, context("run-1"), [prod(), scanned(DEV, make_user("ci", keys=(make_key(age=300),)))])
    # When the next day the dev key is gone and a console user without MFA appears in prod
    outcome = finalize(tmp_path, context("run-2", day=1), [prod(mallory()), scanned(DEV, make_user("ci"))])
    # Then one new and one resolved finding, computed from run-1's state
    assert outcome.changes == {"previous_run_id": "run-1", "new": 1, "resolved": 1}
    report = read_json(tmp_path, "report.json")
    assert report["changes"]["resolved_findings"][0]["account_id"] == DEV
    by_rule = {f["rule_id"]: f for f in report["findings"]}
    assert (by_rule["console_user_without_mfa"]["is_new"], by_rule["access_key_too_old"]["is_new"]) == (
        True,
        False,
    )
    # And the old finding keeps its first-seen time; the new one is first seen now
    assert by_rule["access_key_too_old"]["first_seen_at"] == "2026-11-23T06:00:00Z"
    assert by_rule["console_user_without_mfa"]["first_seen_at"] == "2026-11-24T06:00:00Z"
    assert report["changes"]["new_finding_ids"] == [by_rule["console_user_without_mfa"]["finding_id"]]


def test_findings_of_an_unscanned_account_are_carried_then_expire(tmp_path):
    # Given a first run with a finding in dev
    dev_user = make_user("ci", keys=(make_key(age=300),))
    finalize(tmp_path, context("run-1"), [prod(), scanned(DEV, dev_user)])
    # When dev fails in the next run (CARRY_OVER_RUNS=1)
    failing = [prod(), unscanned(DEV, AccountStatus.FAILED, "AccessDenied")]
    second = finalize(tmp_path, context("run-2", day=1), failing, CARRY_OVER_RUNS="1")
    # Then its finding is neither new nor resolved, but carried over, one run older
    assert second.changes == {"previous_run_id": "run-1", "new": 0, "resolved": 0}
    carried = read_json(tmp_path, "report.json")["changes"]["carried_over"]
    assert [(f["account_id"], f["first_seen_at"]) for f in carried] == [(DEV, "2026-11-23T06:00:00Z")]
    assert [
        e["missed_runs"] for e in state_lines(tmp_path, None)[1:] if e["finding"]["account_id"] == DEV
    ] == [1]
    # And when dev is skipped in a third run, the carried finding expires instead of living forever
    skipped = [prod(), unscanned(DEV, AccountStatus.SKIPPED, "AccountNotActive")]
    finalize(tmp_path, context("run-3", day=2), skipped, CARRY_OVER_RUNS="1")
    report = read_json(tmp_path, "report.json")
    assert (report["changes"]["carried_over"], report["changes"]["expired"]) == ([], 1)
    assert [e["finding"]["account_id"] for e in state_lines(tmp_path, None)[1:]] == [PROD]


def test_a_carried_finding_that_comes_back_is_not_new(tmp_path):
    # Given dev's finding carried over by run-2
    dev_user = make_user("ci", keys=(make_key(age=300),))
    finalize(tmp_path, context("run-1"), [prod(), scanned(DEV, dev_user)])
    finalize(tmp_path, context("run-2", day=1), [prod(), unscanned(DEV, AccountStatus.FAILED, "Timeout")])
    # When dev is scanned again with the same finding
    third = finalize(tmp_path, context("run-3", day=2), [prod(), scanned(DEV, dev_user)])
    # Then nothing is new, and it keeps its first-seen time
    assert third.changes["new"] == 0
    dev = next(f for f in read_json(tmp_path, "report.json")["findings"] if f["account_id"] == DEV)
    assert dev["first_seen_at"] == "2026-11-23T06:00:00Z"


def damage_state(tmp_path, body: bytes) -> None:
    folder = read_json(tmp_path, "latest.json")["folder"]
    (tmp_path / folder / STATE_FILE).write_bytes(body)


def incompatible_state() -> bytes:
    header = {"kind": "iam-inventory/comparison-state", "schema_version": "2.0", "run_id": "run-1"}
    return gzip.compress((json.dumps(header) + "\n").encode())


def truncated_state(tmp_path) -> bytes:
    folder = read_json(tmp_path, "latest.json")["folder"]
    return (tmp_path / folder / STATE_FILE).read_bytes()[:-12]


def test_a_damaged_or_incompatible_state_is_reported_and_sends_no_notification(tmp_path):
    for damage, status in (
        (lambda: b"\x1f\x8bnot gzip at all", "unreadable"),
        (lambda: truncated_state(tmp_path), "unreadable"),
        (incompatible_state, "incompatible"),
    ):
        # Given a first run, then its state damaged
        finalize(tmp_path, context("run-1"), [prod()])
        damage_state(tmp_path, damage())
        # When the next scheduled run (with a new urgent finding) notifies through SNS
        factory = FakeFactory()
        topic = "arn:aws:sns:us-east-1:123456789012:findings"
        outcome = finalize(
            tmp_path, context("run-2", day=1), [prod(mallory())], factory, NOTIFY_TOPIC_ARN=topic
        )
        # Then the damage is reported in the summary, the report and the page, and nothing is "new"
        assert outcome.comparison_state["status"] == status, damage
        assert outcome.changes == {"previous_run_id": None, "new": None, "resolved": None}
        report = read_json(tmp_path, "report.json")
        assert report["changes"]["state"]["status"] == status
        assert not any(f["is_new"] for f in report["findings"])
        assert 'id="banner-state"' in (tmp_path / "index.html").read_text()
        # And no notification went out
        assert factory.sns.messages == []


def test_a_new_urgent_finding_is_notified_when_the_state_is_readable(tmp_path):
    finalize(tmp_path, context("run-1"), [prod()])
    factory = FakeFactory()
    topic = "arn:aws:sns:us-east-1:123456789012:findings"
    finalize(tmp_path, context("run-2", day=1), [prod(mallory())], factory, NOTIFY_TOPIC_ARN=topic)
    [message] = factory.sns.messages
    assert "compared with run run-1" in message["Message"]
    assert "[HIGH] console_user_without_mfa in 111111111111" in message["Message"]


def test_a_retried_run_compares_with_what_its_first_attempt_compared_with(tmp_path):
    # Given run-1, then run-2 with a new finding (latest.json now points at run-2)
    finalize(tmp_path, context("run-1"), [prod()])
    finalize(tmp_path, context("run-2", day=1), [prod(mallory())])
    # When run-2 is retried
    retried = finalize(tmp_path, context("run-2", day=1), [prod(mallory())])
    # Then it still compares with run-1, and the history does not count run-2 twice
    assert retried.changes == {"previous_run_id": "run-1", "new": 1, "resolved": 0}
    assert [entry["run_id"] for entry in read_json(tmp_path, "history.json")["runs"]] == ["run-1", "run-2"]


def test_history_keeps_the_last_n_baseline_runs(tmp_path):
    for day in range(4):
        finalize(tmp_path, context(f"run-{day}", day=day), [prod()], HISTORY_RUNS="3")
    assert [entry["run_id"] for entry in read_json(tmp_path, "history.json")["runs"]] == [
        "run-1",
        "run-2",
        "run-3",
    ]


def test_notification_text_lists_the_urgent_findings_and_counts_the_rest():
    listed = scanned(PROD, mallory()).findings
    new = NewFindings("run-2", "run-1", listed, total=3, report_location="s3://b/p/runs/x/index.html")
    subject, message = render_notification(new)
    assert subject == "iam-inventory: 3 new high/critical finding(s)"
    assert "Run run-2 (compared with run run-1)" in message
    assert message.count("\n- ") == 1
    assert "... and 2 more." in message
    assert "Report: s3://b/p/runs/x/index.html" in message
    assert render_notification(NewFindings("run-2", "run-1", (), total=0)) is None


def test_security_hub_documents_go_out_in_batches_of_100_and_only_known_ones_change_workflow():
    # Given 250 documents of one account from a generator: every 10th resolved, every 25th suppressed,
    # the first 200 seen by an earlier run; and a Security Hub that refuses the first of each batch
    from iam_inventory.publish.channels.securityhub_export import ExportResult, import_account

    imports, updates = [], []

    class SecurityHub:
        def batch_import_findings(self, Findings):
            imports.append(len(Findings))
            refused = [{"Id": Findings[0]["Id"], "ErrorCode": "InvalidInput", "ErrorMessage": "x"}]
            return {"SuccessCount": len(Findings) - 1, "FailedCount": 1, "FailedFindings": refused}

        def batch_update_findings(self, FindingIdentifiers, Workflow):
            updates.append((Workflow["Status"], [item["Id"] for item in FindingIdentifiers]))
            return {"ProcessedFindings": FindingIdentifiers, "UnprocessedFindings": []}

    def status(number: int) -> str:
        return "RESOLVED" if number % 10 == 0 else "SUPPRESSED" if number % 25 == 0 else "NEW"

    documents = (
        (
            {
                "Id": f"f{number}",
                "ProductArn": "p",
                "Workflow": {"Status": status(number)},
                "ProductFields": {},
            },
            number < 200,
        )
        for number in range(250)
    )
    result = ExportResult()
    # When
    imported = import_account(SecurityHub(), documents, result)
    # Then three imports of 100, 100 and 50, refusals counted
    assert imports == [100, 100, 50]
    assert (imported, result.imported, result.failed) == (247, 247, 3)
    # And only known, accepted findings whose workflow must change are updated, per batch and status
    # (f0 and f100 were refused; f200 and later are new: created with their workflow already)
    assert updates == [
        ("RESOLVED", [f"f{n}" for n in range(10, 100, 10)]),
        ("SUPPRESSED", ["f25", "f75"]),
        ("RESOLVED", [f"f{n}" for n in range(110, 200, 10)]),
        ("SUPPRESSED", ["f125", "f175"]),
    ]
    assert result.workflow_updates == 22


@pytest.mark.parametrize(
    ("status", "note", "change"),
    [
        ("RESOLVED", None, "RESOLVED"),
        ("SUPPRESSED", None, "SUPPRESSED"),
        ("NEW", None, None),  # an analyst's NOTIFIED is left alone
        ("NEW", "exception_expired", "NEW"),  # back from SUPPRESSED when the exception lapsed
    ],
)
def test_which_existing_findings_get_a_workflow_update(status, note, change):
    from iam_inventory.publish.channels.securityhub import workflow_change

    fields = {"iam-inventory/ExceptionNote": note} if note else {}
    assert workflow_change({"Workflow": {"Status": status}, "ProductFields": fields}) == change
