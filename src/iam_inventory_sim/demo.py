"""The embedded demo: the real job, end to end, against a seeded simulator on loopback."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from aws_lambda_powertools.metrics import Metrics

from iam_inventory.config.events import RunRequest
from iam_inventory.config.settings import Settings
from iam_inventory.core.clock import utcnow
from iam_inventory.models import Finding, RunResult
from iam_inventory.pipeline.finalize import Outputs
from iam_inventory.pipeline.job import run_job
from iam_inventory.publish.report import finding_from_entry
from iam_inventory_sim import (
    DEMO_EXTERNAL_ID,
    HUB_ACCOUNT_ID,
    Simulator,
    admin_client,
    demo_estate,
    expected_findings,
    running_simulator,
    seed_estate,
    seed_organization,
)

# Prints a finished run for a human (the CLI's summary table), passed in so the simulator needs no CLI.
SummaryPrinter = Callable[[RunResult, TextIO], None]
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


def run_demo(out_dir: Path, out: TextIO, print_summary: SummaryPrinter) -> int:
    """Seed the demo organization, run, change the estate, run again; print and check both results."""
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
        }
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        with environment(env):
            import boto3

            boto3.client("s3").create_bucket(Bucket=DEMO_BUCKET)
            settings = Settings.from_env(env)
            out_dir.mkdir(parents=True, exist_ok=True)
            metrics = Metrics(namespace="IAMInventory", service="iam-inventory")
            with (out_dir / "metrics.emf.jsonl").open("w") as emf:
                first = _demo_run(f"demo-{stamp}-1", settings, now, out_dir, metrics, emf)
                print("\n=== Run 1: the organization as seeded ===", file=out)
                print_summary(first, out)
                reported = sorted(item.account.account_id for item in first.accounts)
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
                found = {_describe(f) for f in first.findings}
                planted = expected_findings(estate, key_ids)
                if found != planted:
                    missing, unexpected = sorted(planted - found), sorted(found - planted)
                    print(f"\nCheck FAILED: missing {missing}, unexpected {unexpected}", file=out)
                    return 3
                print(
                    f"Check: the {len(found)} findings match exactly what the estate was seeded with.",
                    file=out,
                )

                expected_new, expected_resolved = change_demo_estate(simulator, key_ids)
                print("\n=== The estate changes ===", file=out)
                print("  ci-deployer's 400-day-old key is deleted; bob enables MFA;", file=out)
                print("  mallory (dev-sandbox) gets a console password and no MFA.", file=out)
                later = now + timedelta(minutes=1)
                second = _demo_run(f"demo-{stamp}-2", settings, later, out_dir, metrics, emf)
        print("\n=== Run 2: after the changes ===", file=out)
        print_summary(second, out)
        print(f"wrote metrics (EMF): {out_dir / 'metrics.emf.jsonl'}", file=out)
        changes = json.loads((out_dir / "report.json").read_text())["changes"]
        new_ids = set(changes["new_finding_ids"])
        new = {_describe(f) for f in second.findings if f.finding_id in new_ids}
        resolved = {_describe(finding_from_entry(f)) for f in changes["resolved_findings"]}
        for label, items in (("New", new), ("Resolved", resolved)):
            for item in sorted(items, key=str):
                print(f"  {label}: {item[3]} in {item[0]} ({item[1] or 'root'})", file=out)
        if (new, resolved) != (expected_new, expected_resolved):
            print(
                f"\nCheck FAILED: new {sorted(new, key=str)}, resolved {sorted(resolved, key=str)}", file=out
            )
            return 3
        print(
            f"\nCheck: run 2 reports exactly the {len(new)} new and {len(resolved)} resolved findings "
            f"the changes should cause. Open {out_dir / 'index.html'} in a browser.",
            file=out,
        )
    # The estate has an unreachable account on purpose: its `failed` status is the expected outcome.
    return 0


def _describe(finding: Finding) -> tuple[str, str | None, str | None, str]:
    return (finding.account_id, finding.user_name, finding.access_key_id, finding.rule_id)


def _demo_run(
    run_id: str, settings: Settings, now: datetime, out_dir: Path, metrics: Metrics, emf: TextIO
) -> RunResult:
    with contextlib.redirect_stdout(emf):
        result = run_job(
            # Each demo run is the baseline of the next, as scheduled runs are.
            RunRequest(source="manual", run_id=run_id, baseline=True),
            settings,
            lambda: now,
            str(uuid.uuid4()),
            Outputs(local_dir=out_dir, metrics=metrics),
        )
        metrics.flush_metrics()
    return result


ExpectedSet = set[tuple[str, str | None, str | None, str]]


def change_demo_estate(
    simulator: Simulator, key_ids: dict[tuple[str, str, int], str]
) -> tuple[ExpectedSet, ExpectedSet]:
    """Fix two findings and cause a new one; return the (new, resolved) findings that should follow."""
    prod = admin_client(simulator, "iam", "111111111111")
    old_key = key_ids[("111111111111", "ci-deployer", 0)]
    prod.delete_access_key(UserName="ci-deployer", AccessKeyId=old_key)
    serial = prod.create_virtual_mfa_device(VirtualMFADeviceName="bob-mfa")["VirtualMFADevice"][
        "SerialNumber"
    ]
    prod.enable_mfa_device(
        UserName="bob", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    dev = admin_client(simulator, "iam", "222222222222")
    dev.create_user(
        UserName="mallory",
        Tags=[{"Key": "owner", "Value": "mallory@example.com"}, {"Key": "team", "Value": "growth"}],
    )
    dev.create_login_profile(UserName="mallory", Password="Sim-Passw0rd!-not-real")
    new = {("222222222222", "mallory", None, "console_user_without_mfa")}
    resolved = {
        ("111111111111", "ci-deployer", old_key, "access_key_too_old"),
        ("111111111111", "bob", None, "console_user_without_mfa"),
    }
    return new, resolved


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
