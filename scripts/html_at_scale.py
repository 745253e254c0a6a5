"""Write the index.html of a synthetic run over N accounts, for the page's screenshots (docs/remediation.md).

Usage: python scripts/html_at_scale.py 300 /tmp/page/index.html
Deterministic: a fixed clock and seed. One account in eight has findings; a few failed or were skipped.
"""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from iam_inventory.compare.comparison import Comparison
from iam_inventory.compare.state import PreviousState
from iam_inventory.evaluate.changes import StateStatus
from iam_inventory.evaluate.finding_enrichment import EnrichmentConfig
from iam_inventory.evaluate.owners import OwnerConfig
from iam_inventory.evaluate.rules import evaluate
from iam_inventory.models import (
    AccessKey,
    Account,
    AccountInventory,
    AccountResult,
    AccountStatus,
    IamUser,
    KeyLastUse,
    RunContext,
    Thresholds,
)
from iam_inventory.models.scan import AccountScan
from iam_inventory.publish.writer import RunWriter
from iam_inventory.publish.written import WriterOptions

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
TEAMS = ("team-payments", "team-data", "team-platform", "team-growth")


def _user(rng: random.Random, account_id: str, index: int, risky: bool) -> IamUser:
    age = rng.choice((200, 120, 95)) if risky else rng.randint(5, 60)
    used = rng.choice((None, 70, 1)) if risky else rng.randint(0, 10)
    key = AccessKey(
        f"AKIA{account_id[:6]}{index:010d}",
        "Active",
        NOW - timedelta(days=age, hours=1),
        KeyLastUse(None if used is None else NOW - timedelta(days=used, hours=1), "s3", "us-east-1"),
    )
    console = risky and index % 3 == 0
    return IamUser(
        user_name=f"svc-{index:03d}",
        user_id=f"AIDA{account_id}{index:09d}",
        arn=f"arn:aws:iam::{account_id}:user/svc-{index:03d}",
        path="/",
        created_at=NOW - timedelta(days=400),
        console_access=console,
        password_last_used=NOW - timedelta(days=2) if console else None,
        mfa_enabled=False,
        access_keys=(key,),
        tags={"owner": rng.choice(TEAMS)} if index % 2 else {},
        privileged=risky and index == 1,
        privileged_reason="AdministratorAccess attached through group admins" if risky and index == 1 else "",
    )


def scans(count: int) -> list[AccountScan]:
    """The synthetic run's AccountScans."""
    rng = random.Random(12)
    thresholds = Thresholds()
    result = []
    for number in range(count):
        account_id = f"{100000000000 + number * 7919:012d}"
        account = Account(account_id, f"workload-{number:03d}", f"Root/Workloads/{TEAMS[number % 4]}")
        if number % 97 == 5:
            failed = AccountResult(
                account,
                AccountStatus.FAILED,
                error_code="AccessDenied",
                error_message="assume_role: AccessDenied",
            )
            result.append(AccountScan("scale", failed))
            continue
        risky = number % 8 == 0
        users = tuple(_user(rng, account_id, index, risky) for index in range(6))
        inventory = AccountInventory(account_id, users, number % 40 == 0, True, NOW)
        item = AccountResult(account, AccountStatus.SCANNED, inventory)
        result.append(AccountScan("scale", item, tuple(evaluate(inventory, thresholds, NOW))))
    return result


def main(count: int, target: Path) -> None:
    """Render the page of `count` accounts to `target`."""
    context = RunContext("scale-" + str(count), NOW, False, Thresholds(), "IAMListRole", "/", "schedule")
    options = WriterOptions(
        folder="scale",
        console_role_name="SecurityAudit",
        enrichment=EnrichmentConfig(owners=OwnerConfig(ou_owners={"Root/Workloads/team-data": "team-data"})),
    )
    comparison = Comparison(PreviousState(StateStatus.NONE, "first run"))
    writer = RunWriter(context, comparison, options)
    for scan in scans(count):
        writer.add(scan)
    written = writer.finish(NOW + timedelta(minutes=3), ())
    target.parent.mkdir(parents=True, exist_ok=True)
    for file in written.files:
        if file.name == "index.html":
            target.write_bytes(file.body.reader().read())
        file.body.close()
    comparison.close()


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
