"""A small seeded estate on the embedded simulator, for `invoke --simulator` and the artifact smoke test.

Three member accounts of the demo estate (111111111111, 222222222222, 333333333333, so the sample events'
account lists exist), their spoke roles trusting the hub with the demo ExternalId, that ExternalId in an SSM
SecureString as in a deployed stack, and a report bucket.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

SIMULATED_ACCOUNTS = ("111111111111", "222222222222", "333333333333")
EXTERNAL_ID_PARAMETER = "/iam-inventory/external-id"
SIMULATED_BUCKET = "iam-inventory-simulated-reports"


@contextmanager
def simulated_estate(now: datetime) -> Iterator[dict[str, str]]:
    """Start and seed a simulator; yield the environment variables a handler needs to run against it."""
    import boto3

    from iam_inventory_sim import DEMO_EXTERNAL_ID, demo_estate, running_simulator, seed_estate
    from iam_inventory_sim.demo import simulator_environment

    estate = tuple(account for account in demo_estate() if account.account_id in SIMULATED_ACCOUNTS)
    with running_simulator() as simulator:
        seed_estate(simulator.endpoint, estate, now)
        base = simulator_environment(simulator.endpoint)
        hub = {
            "endpoint_url": simulator.endpoint,
            "region_name": base["AWS_REGION"],
            "aws_access_key_id": base["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": base["AWS_SECRET_ACCESS_KEY"],
        }
        boto3.client("s3", **hub).create_bucket(Bucket=SIMULATED_BUCKET)
        boto3.client("ssm", **hub).put_parameter(
            Name=EXTERNAL_ID_PARAMETER, Type="SecureString", Value=DEMO_EXTERNAL_ID
        )
        simulator.faults.enforce_trust = True
        yield base | {
            "ACCOUNT_SOURCE": "static",
            "ACCOUNT_IDS": ",".join(SIMULATED_ACCOUNTS),
            "EXTERNAL_ID_PARAMETER": EXTERNAL_ID_PARAMETER,
            "REPORT_BUCKET": SIMULATED_BUCKET,
        }
