"""The unit of work of a run: one account assumed, collected and evaluated (single and fan-out mode alike)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from iam_inventory.assume.clients import CallCounter, ClientFactory, acting_in, assume_spoke_role, role_arn
from iam_inventory.collect.account import Collected, collect_account_auto
from iam_inventory.config.settings import CollectionMode, Settings
from iam_inventory.core.budget import Deadline
from iam_inventory.core.observability import logger
from iam_inventory.core.redact import Redactor
from iam_inventory.core.retry import call_patiently, error_code
from iam_inventory.evaluate.rules import evaluate
from iam_inventory.models import Account, AccountResult, AccountStatus, Finding, RunContext
from iam_inventory.models.scan import AccountScan
from iam_inventory.pipeline.previous import PreviousScans, no_previous_scans

# Error codes of a spoke session that expired; STS says ExpiredToken, JSON-protocol services add "Exception".
EXPIRED_CREDENTIAL_CODES = frozenset({"ExpiredToken", "ExpiredTokenException"})
# Told of each finished account, with how many are done out of how many (the CLI's progress bar).
Progress = Callable[[AccountResult, int, int], None]
NOT_SCANNED_CODE = "TimeBudgetExhausted"


@dataclass(frozen=True, slots=True)
class ScanPlan:
    """How accounts are collected and how long the run may take."""

    use_credential_report: bool = True
    account_concurrency: int = 4
    report_wait_seconds: float = 60.0
    grace_seconds: float = 20.0
    deadline: Deadline = field(default_factory=Deadline.unlimited)

    @classmethod
    def from_settings(cls, settings: Settings, deadline: Deadline | None = None) -> ScanPlan:
        """The plan the settings describe, bounded by `deadline` (none: unlimited)."""
        return cls(
            use_credential_report=settings.collection_mode is CollectionMode.AUTO,
            account_concurrency=settings.account_concurrency,
            report_wait_seconds=settings.report_wait_seconds,
            grace_seconds=settings.account_grace_seconds,
            deadline=deadline or Deadline.unlimited(),
        )


@dataclass(frozen=True, slots=True)
class AccountPlan:
    """Everything scan_account needs, and nothing more: the run, the clients, the secrets to mask."""

    context: RunContext
    factory: ClientFactory
    sts: BaseClient
    external_id: str | None = field(repr=False)
    redact: Redactor
    scan: ScanPlan = field(default_factory=ScanPlan)
    # The baseline run's scan of an account: the key ids a steady-state run reuses (pipeline/previous.py).
    previous: PreviousScans = no_previous_scans


def scan_account(plan: AccountPlan, account: Account) -> AccountScan:
    """Assume, collect and evaluate one account; any failure becomes a `failed` scan, never a raise."""
    result = collect_result(plan, account)
    findings: tuple[Finding, ...] = ()
    if result.inventory is not None:
        findings = tuple(evaluate(result.inventory, plan.context.thresholds, plan.context.started_at))
    return AccountScan(run_id=plan.context.run_id, result=result, findings=findings)


def collect_result(plan: AccountPlan, account: Account) -> AccountResult:
    """Assume the spoke role and collect one account, renewing a session that expires mid-account once."""
    context, scan = plan.context, plan.scan
    started = time.monotonic()
    counter = CallCounter()
    assumed = 0
    stage = "assume_role"

    def collect_with_fresh_credentials() -> Collected:
        nonlocal assumed, stage
        stage = "assume_role"
        arn = role_arn(plan.factory.partition, account.account_id, context.role_path, context.role_name)
        assumed += 1
        credentials = call_patiently(
            lambda: assume_spoke_role(plan.sts, arn, context.run_id, plan.external_id), scan.deadline
        )
        plan.redact.add(credentials.secret_access_key, credentials.session_token)
        stage = "collect"
        with acting_in(credentials, counter):
            return collect_account_auto(
                plan.factory.account_client("iam"),
                account.account_id,
                context.started_at,
                use_report=scan.use_credential_report,
                concurrency=scan.account_concurrency,
                deadline=scan.deadline,
                report_wait_seconds=scan.report_wait_seconds,
                tag_keys=context.user_tag_keys,
                # The run's own rules name the report-based candidates to confirm live.
                candidates=lambda inventory: evaluate(inventory, context.thresholds, context.started_at),
                previous=lambda: plan.previous(account.account_id),
            )

    try:
        try:
            collected = collect_with_fresh_credentials()
        except ClientError as error:
            # Only the spoke session can expire mid-account; an expired hub is not cured by assuming again.
            if stage != "collect" or error_code(error) not in EXPIRED_CREDENTIAL_CODES:
                raise
            # The session ran out mid-account (a very large or slow spoke): assume once more and
            # collect afresh, so an inventory is never half from one session and half from another.
            logger.info(
                "spoke credentials expired mid-account; assuming the role again",
                extra={"account_id": account.account_id},
            )
            collected = collect_with_fresh_credentials()
    except Exception as error:
        code = error_code(error)
        message = plan.redact(f"{stage}: {error}")
        logger.warning(
            "account scan failed",
            extra={"account_id": account.account_id, "stage": stage, "error_code": code, "error": message},
        )
        return AccountResult(
            account=account,
            status=AccountStatus.FAILED,
            error_code=code,
            error_message=message,
            duration_ms=_elapsed_ms(started),
            api_calls=counter.calls + assumed,
            retried_calls=counter.retries,
        )
    for warning in collected.warnings:
        logger.warning(warning, extra={"account_id": account.account_id})
    if collected.fallback_reason:
        logger.info(
            "credential report unavailable: used the API path",
            extra={"account_id": account.account_id, "reason": collected.fallback_reason},
        )
    return AccountResult(
        account=account,
        status=AccountStatus.SCANNED,
        inventory=collected.inventory,
        duration_ms=_elapsed_ms(started),
        api_calls=counter.calls + assumed,  # + the AssumeRole calls made with the hub's client
        retried_calls=counter.retries,
        collection_path=collected.path,
        report_generated_at=collected.report_generated_at,
        verification_calls=collected.verification_calls,
        warnings=collected.warnings,
    )


def not_scanned(account: Account, started: bool) -> AccountResult:
    """The result of an account the time budget left unfinished."""
    message = (
        "scan did not finish within the grace period before the deadline"
        if started
        else "not started: the run's time budget ran out"
    )
    logger.warning("account not scanned", extra={"account_id": account.account_id, "started": started})
    return AccountResult(
        account=account, status=AccountStatus.NOT_SCANNED, error_code=NOT_SCANNED_CODE, error_message=message
    )


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
