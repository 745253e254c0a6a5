"""Changes since the last run (pure), the previous run found through latest.json, SNS text, ASFF."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import timedelta

from iam_inventory.models import Account, AccountResult, AccountStatus, Finding, Severity
from iam_inventory.publish.changes import compare_runs, load_baseline, next_history
from iam_inventory.publish.files import render_run_files, run_folder
from iam_inventory.publish.notify import render_notification
from iam_inventory.publish.report import build_report
from iam_inventory.publish.securityhub import HubIdentity, asff_id, build_asff_findings
from tests.builders import NOW
from tests.outputs_support import varied_run

HUB = HubIdentity(account_id="123456789012", region="us-east-1", partition="aws")


@dataclass
class MemoryStore:
    """A RunStore over a dict, filled the way publish_report lays files out."""

    objects: dict[str, bytes] = field(default_factory=dict)

    def read(self, key: str) -> bytes | None:
        return self.objects.get(key)

    def publish(self, result, previous_history=()) -> None:
        from iam_inventory.publish.files import PublishOptions

        _, files = render_run_files(result, PublishOptions(previous_history=tuple(previous_history)))
        folder = run_folder(result)
        for file in files:
            self.objects[file.key or f"{folder}/{file.name}"] = file.body
        self.objects["latest.json"] = json.dumps({"run_id": result.context.run_id, "folder": folder}).encode()


def extra_finding(account_id: str = "111111111111", rule_id: str = "console_user_without_mfa") -> Finding:
    return Finding(
        finding_id=f"{account_id[:4]}{rule_id[:4]}".encode().hex()[:24].ljust(24, "0"),
        rule_id=rule_id,
        severity=Severity.HIGH,
        cis_control="1.10",
        account_id=account_id,
        user_name="mallory",
        access_key_id=None,
        measured_value=0,
        threshold=1,
        unit="mfa_devices",
        message="User mallory has a console password and no MFA device",
        tags={"owner": "sec@example.com"},
    )


def second_run(first, *, add=(), drop_rule: str | None = None, run_id: str = "run-2", started_later: int = 1):
    """The first run a day later, with findings added and one rule's findings gone."""
    context = replace(first.context, run_id=run_id, started_at=NOW + timedelta(days=started_later))
    findings = [f for f in first.findings if f.rule_id != drop_rule] + list(add)
    return replace(
        first, context=context, accounts=list(first.accounts), findings=findings, changes=None, published={}
    )


def test_first_run_has_no_baseline_and_every_finding_is_new():
    first = varied_run()
    changes = compare_runs(first, None)
    assert changes.previous_run_id is None
    assert changes.new_ids == {f.finding_id for f in first.findings}
    assert changes.resolved == ()


def test_second_run_reports_new_and_resolved_and_keeps_first_seen():
    # Given a published first run
    store = MemoryStore()
    first = varied_run("run-1")
    first.changes = compare_runs(first, None)
    store.publish(first)
    # When the second run has one new finding and the two-active-keys finding is gone
    added = extra_finding()
    second = second_run(first, add=[added], drop_rule="user_two_active_keys")
    changes = compare_runs(second, load_baseline(store, "run-2"))
    # Then exactly those are new and resolved
    assert changes.previous_run_id == "run-1"
    assert changes.new_ids == {added.finding_id}
    assert [f.rule_id for f in changes.resolved] == ["user_two_active_keys"]
    # And findings seen before keep their first-seen time; the new one is first seen now
    kept = next(f for f in second.findings if f.rule_id == "access_key_too_old")
    assert changes.first_seen_at[kept.finding_id] == NOW
    assert changes.first_seen_at[added.finding_id] == NOW + timedelta(days=1)
    # And the report shows them
    second.changes = changes
    report = build_report(second)
    assert report["changes"]["new"] == 1
    assert report["changes"]["resolved_findings"][0]["rule_id"] == "user_two_active_keys"
    assert {f["finding_id"]: f["is_new"] for f in report["findings"]}[added.finding_id] is True
    assert sum(f["is_new"] for f in report["findings"]) == 1


def test_findings_of_an_account_that_failed_are_carried_not_resolved():
    # Given a first run with a finding in account 222222222222 (failed in varied_run: make it scanned)
    store = MemoryStore()
    first = varied_run("run-1")
    other = extra_finding("222222222222")
    first.accounts[1] = AccountResult(Account("222222222222", "gone"), AccountStatus.SCANNED)
    first.findings.append(other)
    first.changes = compare_runs(first, None)
    store.publish(first)
    # When that account fails in the second run
    second = second_run(first)
    second.accounts[1] = AccountResult(Account("222222222222"), AccountStatus.FAILED, error_code="Timeout")
    second.findings.remove(other)
    second.changes = compare_runs(second, load_baseline(store, "run-2"))
    # Then its finding is neither resolved nor new, but carried over
    assert second.changes.resolved == ()
    assert second.changes.new_ids == set()
    assert [f.finding_id for f in second.changes.carried_over] == [other.finding_id]
    # And when the account is back in a third run with the same finding, it is still not new
    store.publish(second)
    third = second_run(first, run_id="run-3", started_later=2)
    third.changes = compare_runs(third, load_baseline(store, "run-3"))
    assert third.changes.new_ids == set()
    assert third.changes.first_seen_at[other.finding_id] == NOW


def test_a_retried_run_compares_with_what_its_first_attempt_compared_with():
    # Given run-1, then run-2 published (latest.json now points at run-2)
    store = MemoryStore()
    first = varied_run("run-1")
    first.changes = compare_runs(first, None)
    store.publish(first)
    second = second_run(first, add=[extra_finding()])
    second.changes = compare_runs(second, load_baseline(store, "run-2"))
    store.publish(second)
    # When run-2 is retried
    baseline = load_baseline(store, "run-2")
    # Then its baseline is run-1 again, so the new finding is still reported as new
    assert baseline is not None
    assert baseline.run_id == "run-1"
    assert compare_runs(second, baseline).new_ids == {extra_finding().finding_id}


def test_an_unreadable_previous_run_counts_as_no_baseline():
    store = MemoryStore({"latest.json": b"{not json"})
    assert load_baseline(store, "run-2") is None


def test_history_keeps_the_last_n_runs_and_replaces_a_retried_one():
    report = build_report(varied_run("run-5"))
    previous = tuple({"run_id": f"run-{i}", "findings": i} for i in range(1, 6))
    history = next_history(previous, report, limit=3)
    assert [entry["run_id"] for entry in history] == ["run-3", "run-4", "run-5"]
    assert history[-1]["findings"] == report["summary"]["findings"]["total"]


def test_notification_lists_only_new_high_and_critical_findings():
    # Given a second run whose only new finding is a high one, for a tagged user
    first = varied_run("run-1")
    added = extra_finding()
    second = second_run(first, add=[added])
    second.changes = compare_runs(second, compare_baseline(first))
    # When
    subject, message = render_notification(second, "s3://bucket/iam-inventory/runs/x/index.html")
    # Then
    assert subject == "iam-inventory: 1 new high/critical finding(s)"
    assert "compared with run run-1" in message
    assert "[HIGH] console_user_without_mfa in 111111111111" in message
    assert "owner=sec@example.com" in message
    assert message.count("\n- ") == 1
    assert "Report: s3://bucket/iam-inventory/runs/x/index.html" in message


def test_no_notification_when_nothing_urgent_is_new():
    first = varied_run("run-1")
    second = second_run(first, drop_rule="user_two_active_keys")
    second.changes = compare_runs(second, compare_baseline(first))
    assert render_notification(second, None) is None


def compare_baseline(first):
    store = MemoryStore()
    first.changes = compare_runs(first, None)
    store.publish(first)
    return load_baseline(store, "next")


def test_asff_has_stable_ids_and_archives_resolved_findings():
    # Given a second run that resolved the two-active-keys finding
    first = varied_run("run-1")
    second = second_run(first, drop_rule="user_two_active_keys")
    second.changes = compare_runs(second, compare_baseline(first))
    # When
    documents = {doc["Id"]: doc for doc in build_asff_findings(second, HUB)}
    # Then every current finding is ACTIVE/FAILED and the resolved one ARCHIVED/PASSED, all with stable ids
    assert len(documents) == len(second.findings) + 1
    for finding in second.findings:
        doc = documents[asff_id(finding.finding_id)]
        assert (doc["RecordState"], doc["Compliance"]["Status"]) == ("ACTIVE", "FAILED")
        assert doc["ProductArn"] == "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"
        assert doc["AwsAccountId"] == "123456789012"
        assert doc["ProductFields"]["iam-inventory/AccountId"] == finding.account_id
        assert doc["CreatedAt"] == "2026-11-23T06:00:00Z"  # first seen in run-1
    resolved = documents[asff_id(second.changes.resolved[0].finding_id)]
    assert (resolved["RecordState"], resolved["Compliance"]["Status"]) == ("ARCHIVED", "PASSED")
    root = next(
        doc for doc in documents.values() if doc["GeneratorId"] == "iam-inventory/root_access_key_present"
    )
    assert root["Resources"][0] == {
        "Type": "AwsAccount",
        "Id": "AWS::::Account:111111111111",
        "Partition": "aws",
        "Region": "us-east-1",
    }
    assert root["Severity"] == {"Label": "CRITICAL"}
    evil = next(doc for doc in documents.values() if doc["GeneratorId"] == "iam-inventory/access_key_too_old")
    assert evil["Resources"][0]["Id"] == "arn:aws:iam::111111111111:user/=evil"
    assert evil["UserDefinedFields"]["team"] == "+payments"
    assert evil["Compliance"]["RelatedRequirements"] == ["CIS AWS Foundations Benchmark v3.0.0/1.14"]
