"""The demo's issue-12 part: exceptions, owners, privilege, an overdue finding and a plan, each checked."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from iam_inventory.config.events import RunRequest
from iam_inventory.entrypoints.bootstrap import bootstrap
from iam_inventory.pipeline.finalize import Outputs
from iam_inventory.pipeline.job import run_job

# Writes a remediation plan for one owner from a report.json (the CLI's `plan`), passed in by the CLI.
PlanWriter = Callable[[Path, str, Path], str]
EXCEPTIONS_KEY = "config/exceptions.json"
OU_OWNERS = {"Root/Sandbox": "team-sandbox"}
PLAN_OWNER = "team-sandbox"
AGED_DAYS = 40  # past the 30-day SLA of a high finding


def exceptions_document(today: date) -> dict[str, Any]:
    """One active exception, one expired, one matching nothing (stale), dated from the demo's day."""
    return {
        "version": 1,
        "exceptions": [
            {
                "id": "erin-onboarding",
                "match": {"account": "222222222222", "user": "erin", "rule": "access_key_never_used"},
                "owner": "team-sandbox",
                "reason": "Key issued for a vendor integration that goes live next month",
                "ticket": "SEC-101",
                "expires": (today + timedelta(days=60)).isoformat(),
            },
            {
                "id": "grace-archive",
                "match": {"account": "222222222222", "user": "grace"},
                "owner": "team-sandbox",
                "reason": "Accepted while the archive job was migrated",
                "expires": (today - timedelta(days=5)).isoformat(),
            },
            {
                "id": "departed-contractors",
                "match": {"user": "contractor-*"},
                "owner": "team-platform",
                "reason": "Contractor users, removed since",
                "expires": (today + timedelta(days=30)).isoformat(),
            },
        ],
    }


def remediation_environment(bucket: str) -> dict[str, str]:
    """The variables that make the demo's runs read the exceptions from its bucket and use the OU map."""
    return {"EXCEPTIONS_S3_URI": f"s3://{bucket}/{EXCEPTIONS_KEY}", "OU_OWNERS": json.dumps(OU_OWNERS)}


def upload_exceptions(bucket: str, today: date) -> None:
    """Put the demo's exceptions file where EXCEPTIONS_S3_URI points (the simulator's S3)."""
    import boto3

    body = json.dumps(exceptions_document(today), indent=2).encode()
    boto3.client("s3").put_object(Bucket=bucket, Key=EXCEPTIONS_KEY, Body=body)


def check_enrichment(report: dict[str, Any], out: TextIO) -> bool:
    """Print a check line for the exceptions, owners and privilege of a run's report; True when all hold."""
    checks = _enrichment_checks(report)
    for ok, line in checks:
        print(("Check: " if ok else "Check FAILED: ") + line, file=out)
    return all(ok for ok, _ in checks)


def _enrichment_checks(report: dict[str, Any]) -> list[tuple[bool, str]]:
    findings, suppressed = report["findings"], report.get("suppressed", [])
    active = {entry["suppressed_by"] for entry in suppressed}
    expired = [entry for entry in findings if entry.get("exception_note") == "exception_expired"]
    stale = [entry["id"] for entry in report["exceptions"]["stale"]]
    sources: dict[str, str] = {}
    for entry in findings:
        sources.setdefault(entry["owner_source"], f"{entry['owner']} ({entry['user_name'] or 'root'})")
    raised = [
        entry for entry in findings if entry.get("privileged") and entry["severity"] != entry["base_severity"]
    ]
    keys = [entry for entry in raised if entry["access_key_id"]]
    first: dict[str, Any] = next((entry for entry in keys if entry["severity"] != "critical"), {})
    critical = [entry for entry in keys if entry["severity"] == "critical"]
    top = critical[0] if critical else {}
    return [
        (
            active == {"erin-onboarding"},
            f"active exception erin-onboarding suppresses {len(suppressed)} finding(s), listed apart",
        ),
        (
            [(entry["user_name"], entry["exception"]["id"]) for entry in expired]
            == [("grace", "grace-archive")],
            "expired exception grace-archive turned grace's finding back on (exception_expired)",
        ),
        (stale == ["departed-contractors"], f"stale exception(s) reported: {', '.join(stale) or 'none'}"),
        (
            {"user_tag", "account_tag", "ou_map", "none"} <= set(sources),
            "owners from every source: "
            + "; ".join(f"{source}: {who}" for source, who in sorted(sources.items())),
        ),
        (
            bool(keys),
            f"privileged key raised: {first.get('user_name')}'s {first.get('rule_id')} "
            f"{first.get('base_severity')} -> {first.get('severity')} ({first.get('privileged_reason')})",
        ),
        (
            bool(critical),
            f"privileged key raised to critical: {top.get('user_name')}'s {top.get('rule_id')} "
            f"{top.get('base_severity')} -> {top.get('severity')} ({top.get('privileged_reason')})",
        ),
    ]


def aged_run(stamp: str, now: datetime, out_dir: Path, out: TextIO) -> bool:
    """Run 5, AGED_DAYS later (the simulator clock moved too): findings first seen in run 1 are overdue."""
    print(f"\n=== Run 5: {AGED_DAYS} days later; findings first seen in run 1 pass their SLA ===", file=out)
    aged_dir = out_dir / "aged"
    with open(os.devnull, "w") as discarded, contextlib.redirect_stdout(discarded):
        run_job(
            RunRequest(source="manual", run_id=f"demo-{stamp}-5", baseline=True),
            bootstrap(dict(os.environ), default_log_level="ERROR", local_dir=aged_dir),
            lambda: now,
            str(uuid.uuid4()),
            Outputs(),
        )
    report = json.loads((aged_dir / "report.json").read_text())
    overdue = [entry for entry in report["findings"] if entry["overdue"]]
    if not overdue:
        print("Check FAILED: no finding is overdue after 40 days", file=out)
        return False
    entry = overdue[0]
    who = entry["user_name"] or "root"
    print(
        f"Check: {len(overdue)} overdue finding(s), e.g. {entry['rule_id']} of {who} ({entry['severity']}, "
        f"{entry['days_open']} days open, SLA {entry['sla_days']} days); report in {aged_dir}",
        file=out,
    )
    return True


def write_owner_plan(report_path: Path, out_dir: Path, write_plan: PlanWriter | None, out: TextIO) -> bool:
    """The `plan` for one owner, written from the report beside it."""
    if write_plan is None:
        print("(no plan writer given: the CLI's demo writes one)", file=out)
        return True
    target = out_dir / "plans" / PLAN_OWNER
    summary = write_plan(report_path, PLAN_OWNER, target)
    written = (target / "plan.sh").is_file() and (target / "plan.json").is_file()
    plan = json.loads((target / "plan.json").read_text()) if written else {}
    print(
        ("Check: " if written else "Check FAILED: ") + f"plan for {PLAN_OWNER}: {summary.strip()}", file=out
    )
    return written and plan.get("filters", {}).get("owner") == PLAN_OWNER


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Any:
    """Set environment variables for the duration of a block, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
