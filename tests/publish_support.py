"""Finalize hand-made runs into a local folder (no AWS): scans, contexts, settings and a fake SNS."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from iam_inventory.config.settings import Settings
from iam_inventory.core.redact import Redactor
from iam_inventory.evaluate.rules import evaluate
from iam_inventory.models import Account, AccountResult, AccountStatus, IamUser, RunContext, Thresholds
from iam_inventory.models.scan import AccountScan
from iam_inventory.pipeline.finalize import Outputs, finalize_run
from iam_inventory.pipeline.location import report_location
from iam_inventory.pipeline.outcome import RunOutcome
from iam_inventory.pipeline.runtime import Runtime
from tests.builders import NOW, make_inventory


def context(
    run_id: str, day: int = 0, trigger: str = "schedule", thresholds: Thresholds | None = None, **extra: Any
) -> RunContext:
    """A run `day` days after NOW."""
    return RunContext(
        run_id,
        NOW + timedelta(days=day),
        False,
        thresholds or Thresholds(),
        "IAMListRole",
        "/",
        trigger,
        **extra,
    )


def scanned(account_id: str, *users: IamUser, run: RunContext | None = None) -> AccountScan:
    """A scanned account with its findings evaluated as the pipeline would."""
    run = run or context("r")
    inventory = make_inventory(*users, account_id=account_id)
    findings = tuple(evaluate(inventory, run.thresholds, run.started_at))
    result = AccountResult(Account(account_id, f"acct-{account_id[:3]}"), AccountStatus.SCANNED, inventory)
    return AccountScan(run.run_id, result, findings)


def unscanned(account_id: str, status: AccountStatus, code: str, run_id: str = "r") -> AccountScan:
    """An account that failed, was skipped or was not scanned."""
    result = AccountResult(Account(account_id, f"acct-{account_id[:3]}"), status, error_code=code)
    return AccountScan(run_id, result)


@dataclass
class FakeSns:
    """Records what would be published."""

    messages: list[dict[str, Any]] = field(default_factory=list)

    def publish(self, **kwargs: Any) -> dict[str, str]:
        self.messages.append(kwargs)
        return {"MessageId": f"m-{len(self.messages)}"}


@dataclass
class FakeFactory:
    """The few ClientFactory members finalize uses, with a fake SNS."""

    sns: FakeSns = field(default_factory=FakeSns)
    region: str = "us-east-1"
    partition: str = "aws"

    def hub_client(self, service: str) -> Any:
        assert service == "sns", f"unexpected AWS client {service} in a unit test"
        return self.sns


def settings(**env: str) -> Settings:
    return Settings.from_env({"ACCOUNT_IDS": "111111111111", **env})


def local_runtime(folder: Path | None, factory: FakeFactory | None = None, **env: str) -> Runtime:
    """A runtime whose report location is `folder`, with the fake hub clients."""
    fake: Any = factory or FakeFactory()
    configured = settings(**env)
    return Runtime(configured, fake, report_location(configured, fake, folder), Redactor())


def finalize(
    folder: Path,
    run: RunContext,
    scans: list[AccountScan],
    factory: FakeFactory | None = None,
    **env: str,
) -> RunOutcome:
    """finalize_run into `folder` with these scans (their run id replaced by the run's)."""
    own = [AccountScan(run.run_id, scan.result, scan.findings) for scan in scans]
    return finalize_run(
        run,
        lambda: iter(own),
        local_runtime(folder, factory, **env),
        Outputs(),
        lambda: run.started_at,
    )


def read_json(folder: Path, name: str) -> Any:
    return json.loads((folder / name).read_text())
