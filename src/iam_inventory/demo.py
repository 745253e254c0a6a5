"""The embedded demo: the real job, end to end, against a seeded simulator on loopback."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import TextIO

from aws_lambda_powertools.metrics import Metrics

from iam_inventory.cli import environment, print_summary, utcnow
from iam_inventory.config import Settings
from iam_inventory.events import RunRequest
from iam_inventory.job import Outputs, run_job
from iam_inventory.simulator import (
    DEMO_EXTERNAL_ID,
    HUB_ACCOUNT_ID,
    demo_estate,
    expected_findings,
    running_simulator,
    seed_estate,
    seed_organization,
)

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


def run_demo(out_dir: Path, out: TextIO) -> int:
    """Seed the demo organization, run the job with S3 and local output, print and check the result."""
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
        with environment(env):
            import boto3

            from iam_inventory.observability import logger

            logger.setLevel("WARNING")  # the summary below is the demo's output; JSON logs stay for warnings

            boto3.client("s3").create_bucket(Bucket=DEMO_BUCKET)
            settings = Settings.from_env(env)
            out_dir.mkdir(parents=True, exist_ok=True)
            metrics = Metrics(namespace="IAMInventory", service="iam-inventory")
            with (out_dir / "metrics.emf.jsonl").open("w") as emf, contextlib.redirect_stdout(emf):
                result = run_job(
                    RunRequest(source="manual"),
                    settings,
                    lambda: now,
                    str(uuid.uuid4()),
                    Outputs(local_dir=out_dir, metrics=metrics),
                )
                metrics.flush_metrics()
        print_summary(result, out)
        print(f"wrote metrics (EMF): {out_dir / 'metrics.emf.jsonl'}", file=out)
        reported = sorted(item.account.account_id for item in result.accounts)
        organization = sorted([HUB_ACCOUNT_ID, *(account.account_id for account in estate)])
        if reported != organization:
            print(
                f"\nCheck FAILED: the report lists {reported}, the organization holds {organization}",
                file=out,
            )
            return 3
        print(
            f"\nCheck: each of the organization's {len(organization)} accounts is reported exactly once.",
            file=out,
        )
        found = {(f.account_id, f.user_name, f.access_key_id, f.rule_id) for f in result.findings}
        planted = expected_findings(estate, key_ids)
        if found == planted:
            print(
                f"Check: the {len(found)} findings match exactly what the estate was seeded with.", file=out
            )
        else:
            print(
                f"\nCheck FAILED: missing {sorted(planted - found)}, unexpected {sorted(found - planted)}",
                file=out,
            )
            return 3
    # The estate has an unreachable account on purpose: its `failed` status is the expected outcome.
    return 0
