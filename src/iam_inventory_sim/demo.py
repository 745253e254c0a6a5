"""The embedded demo: the real job, end to end, against a seeded simulator on loopback."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from aws_lambda_powertools.metrics import Metrics

from iam_inventory.config.events import RunRequest
from iam_inventory.core.clock import utcnow
from iam_inventory.entrypoints.bootstrap import bootstrap
from iam_inventory.pipeline.finalize import Outputs
from iam_inventory.pipeline.job import run_job
from iam_inventory.pipeline.outcome import RunOutcome
from iam_inventory.pipeline.runtime import Runtime
from iam_inventory_sim import (
    DEMO_EXTERNAL_ID,
    HUB_ACCOUNT_ID,
    demo_estate,
    expected_findings,
    running_simulator,
    seed_estate,
    seed_organization,
)
from iam_inventory_sim import demo_remediation as remediation
from iam_inventory_sim.credential_report import REPORT_TTL
from iam_inventory_sim.demo_accounts import change_demo_estate
from iam_inventory_sim.demo_checks import (
    ExpectedSet,
    check_changes,
    check_planted_credentials,
    check_root_credentials_removed,
    describe,
)

# Prints a finished run for a human (the CLI's summary table), passed in so the simulator needs no CLI.
SummaryPrinter = Callable[[RunOutcome, TextIO], None]
DEMO_BUCKET = "iam-inventory-demo-reports"


def simulator_environment(endpoint: str) -> dict[str, str]:
    """Variables that point boto3 at the simulator with throwaway credentials."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "POWERTOOLS_SERVICE_NAME": "iam-inventory",
        "POWERTOOLS_METRICS_NAMESPACE": "IAMInventory",
    }


def run_demo(
    out_dir: Path,
    out: TextIO,
    print_summary: SummaryPrinter,
    write_plan: remediation.PlanWriter | None = None,
) -> int:
    """Seed the demo organization, run, change the estate, run again; print and check each result."""
    estate = demo_estate()
    with running_simulator() as simulator:
        print(f"Simulator on {simulator.endpoint} (moto, loopback only)", file=out)
        now = utcnow()
        seed_organization(simulator.endpoint, estate)
        key_ids = seed_estate(simulator.endpoint, estate, now)
        simulator.faults.enforce_trust = True
        print(
            f"Seeded an organization: the hub {HUB_ACCOUNT_ID} (management account) and "
            f"{len(estate)} member accounts:",
            file=out,
        )
        for account in estate:
            users = len(account.users)
            print(
                f"  {account.account_id} {account.name:<18} Root/{account.ou:<22} {account.state:<11}"
                f"users={users:<4} role={account.role}",
                file=out,
            )
        env = simulator_environment(simulator.endpoint) | {
            "ACCOUNT_SOURCE": "organizations",
            "EXTERNAL_ID": DEMO_EXTERNAL_ID,
            "REPORT_BUCKET": DEMO_BUCKET,
            **remediation.remediation_environment(DEMO_BUCKET),
        }
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        with remediation.environment(env):
            import boto3

            boto3.client("s3").create_bucket(Bucket=DEMO_BUCKET)
            remediation.upload_exceptions(DEMO_BUCKET, now.date())
            runtime = bootstrap(env, default_log_level="WARNING", local_dir=out_dir)
            out_dir.mkdir(parents=True, exist_ok=True)
            metrics = Metrics(namespace="IAMInventory", service="iam-inventory")
            with (out_dir / "metrics.emf.jsonl").open("w") as emf:
                first = _demo_run(f"demo-{stamp}-1", runtime, now, out_dir, metrics, emf)
                print("\n=== Run 1: the organization as seeded ===", file=out)
                print_summary(first.outcome, out)
                reported = sorted(entry["account_id"] for entry in first.report["accounts"])
                organization = sorted([HUB_ACCOUNT_ID, *(account.account_id for account in estate)])
                if reported != organization:
                    print(
                        f"\nCheck FAILED: the report lists {reported}, the organization holds {organization}",
                        file=out,
                    )
                    return 3
                count = len(organization)
                print(
                    f"\nCheck: each of the organization's {count} accounts is reported exactly once.",
                    file=out,
                )
                found = _described(first)
                planted = expected_findings(estate, key_ids)
                if found != planted:
                    missing, unexpected = sorted(planted - found), sorted(found - planted)
                    print(f"\nCheck FAILED: missing {missing}, unexpected {unexpected}", file=out)
                    return 3
                print(
                    f"Check: the {len(found)} findings match exactly what the estate was seeded with.",
                    file=out,
                )
                if not check_root_credentials_removed(first.report, estate, out):
                    return 3
                if not check_planted_credentials(first.report, estate, key_ids, out):
                    return 3

                expected_new, expected_resolved = change_demo_estate(simulator, key_ids)
                print("\n=== The estate changes ===", file=out)
                print("  ci-deployer's 400-day-old key is deleted; bob enables MFA;", file=out)
                print("  mallory (dev-sandbox) gets a console password and no MFA.", file=out)
                later = now + timedelta(minutes=1)
                second = _demo_run(f"demo-{stamp}-2", runtime, later, out_dir, metrics, emf)
                print("\n=== Run 2: after the changes (credential reports still cached) ===", file=out)
                print_summary(second.outcome, out)
                if not check_changes(second.report, expected_new, expected_resolved, out):
                    return 3
                verified = _verification_calls(second)
                if not verified:
                    print("\nCheck FAILED: run 2 read cached reports and verified nothing live", file=out)
                    return 3
                print(
                    f"Check: IAM served each account's cached credential report (GenerateCredentialReport "
                    f"answered COMPLETE), so run 2 confirmed its report-based candidates live "
                    f"({verified} calls) and reported only what still holds.",
                    file=out,
                )

                aged = REPORT_TTL + timedelta(minutes=1)
                simulator.clock.advance(aged)
                print(
                    f"\n=== Run 3: the simulator clock moves {aged} ahead; the cached reports expire ===",
                    file=out,
                )
                third = _demo_run(f"demo-{stamp}-3", runtime, later + aged, out_dir, metrics, emf)
        print_summary(third.outcome, out)
        print(f"wrote metrics (EMF): {out_dir / 'metrics.emf.jsonl'}", file=out)
        same = {describe(f) for f in third.report["findings"]} == {
            describe(f) for f in second.report["findings"]
        }
        if not same or _verification_calls(third) or not check_changes(third.report, set(), set(), out):
            print("\nCheck FAILED: run 3 on fresh reports differs from run 2 or verified live", file=out)
            return 3
        print(
            "Check: run 3 generated new reports (STARTED), paid no verification calls, and found the same "
            "findings as run 2.",
            file=out,
        )
        if not remediation.check_enrichment(third.report, out):
            return 3
        if not _failed_run_keeps_latest(env, out_dir, stamp, later + aged, out):
            return 3
        simulator.clock.advance(timedelta(days=remediation.AGED_DAYS))
        with remediation.environment(env):
            if not remediation.aged_run(
                stamp, later + aged + timedelta(days=remediation.AGED_DAYS), out_dir, out
            ):
                return 3
        if not remediation.write_owner_plan(out_dir / "report.json", out_dir, write_plan, out):
            return 3
        print(f"Open {out_dir / 'index.html'} in a browser.", file=out)
    # The estate has an unreachable account on purpose: its `failed` status is the expected outcome.
    return 0


def _failed_run_keeps_latest(
    env: dict[str, str], out_dir: Path, stamp: str, now: datetime, out: TextIO
) -> bool:
    """Run 4 with a wrong ExternalId: every account refuses it, the run fails, latest.json stays put."""
    print("\n=== Run 4: the hub's ExternalId is wrong, so every spoke refuses AssumeRole ===", file=out)
    latest_before = (out_dir / "latest.json").read_text()
    wrong = {**env, "EXTERNAL_ID": "not-the-demo-external-id"}
    with remediation.environment(wrong):
        runtime = bootstrap(wrong, default_log_level="ERROR", local_dir=out_dir)
        with open(os.devnull, "w") as discarded, contextlib.redirect_stdout(discarded):
            outcome = run_job(
                RunRequest(source="manual", run_id=f"demo-{stamp}-4", baseline=True),
                runtime,
                lambda: now,
                str(uuid.uuid4()),
                Outputs(),
            )
    kept = (out_dir / "latest.json").read_text() == latest_before
    print(f"Run {outcome.context.run_id}: status {outcome.status.value} ({outcome.status_reason})", file=out)
    print(f"  published under its own folder: {outcome.folder}", file=out)
    if outcome.status.value != "failed" or not kept:
        print("\nCheck FAILED: the failed run moved latest.json or was not marked failed", file=out)
        return False
    previous = json.loads(latest_before)["run_id"]
    print(f"Check: latest.json still points at the last good run ({previous}).", file=out)
    return True


@dataclass(frozen=True, slots=True)
class DemoRun:
    """One demo run: what run_job returned, and the report.json it wrote (read back as a user would)."""

    outcome: RunOutcome
    report: dict[str, Any]


def _verification_calls(run: DemoRun) -> int:
    return sum(entry["verification_calls"] for entry in run.report["accounts"])


def _described(run: DemoRun) -> ExpectedSet:
    # Suppressed findings are still found: an exception only sets them apart.
    return {describe(finding) for finding in (*run.report["findings"], *run.report.get("suppressed", []))}


def _demo_run(
    run_id: str, runtime: Runtime, now: datetime, out_dir: Path, metrics: Metrics, emf: TextIO
) -> DemoRun:
    with contextlib.redirect_stdout(emf):
        outcome = run_job(
            # Each demo run is the baseline of the next, as scheduled runs are.
            RunRequest(source="manual", run_id=run_id, baseline=True),
            runtime,
            lambda: now,
            str(uuid.uuid4()),
            Outputs(metrics=metrics),
        )
        metrics.flush_metrics()
    return DemoRun(outcome, json.loads((out_dir / "report.json").read_text()))
