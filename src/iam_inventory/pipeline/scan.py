"""Run one inventory: discover, then for each account assume -> collect -> evaluate, then publish."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from iam_inventory.assume.clients import CallCounter, ClientFactory, assume_spoke_role, role_arn
from iam_inventory.collect.credential_report import Collected, call_patiently, collect_account_auto
from iam_inventory.config.settings import CollectionMode, Settings
from iam_inventory.core.budget import Deadline, map_within_deadline
from iam_inventory.core.observability import logger
from iam_inventory.core.redact import Redactor
from iam_inventory.discover.accounts import Discovery
from iam_inventory.evaluate.rules import evaluate
from iam_inventory.models import (
    Account,
    AccountResult,
    AccountStatus,
    Finding,
    RunContext,
    RunResult,
)

Clock = Callable[[], datetime]
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


def resolve_external_id(settings: Settings, ssm: Callable[[], BaseClient]) -> str | None:
    """The ExternalId: read (decrypted) from its SSM parameter, or the plain value allowed outside Lambda."""
    if settings.external_id_parameter:
        response = ssm().get_parameter(Name=settings.external_id_parameter, WithDecryption=True)
        return response["Parameter"]["Value"]
    return settings.external_id


def scan_accounts(
    discovery: Discovery,
    context: RunContext,
    settings: Settings,
    factory: ClientFactory,
    external_id: str | None,
    redact: Redactor,
    now: datetime,
    plan: ScanPlan | None = None,
    progress: Progress | None = None,
) -> list[AccountResult]:
    """Scan every discovered account with a bounded pool within the deadline; results keep discovery order."""
    plan = plan or ScanPlan.from_settings(settings)
    sts = factory.hub_client("sts")

    def scan(account: Account) -> AccountResult:
        return scan_account(account, context, factory, sts, external_id, redact, now, plan=plan)

    scanned = map_within_deadline(
        list(discovery.to_scan),
        scan,
        settings.workers,
        plan.deadline,
        plan.grace_seconds,
        not_scanned,
        on_done=progress,
    )
    return scanned + list(discovery.skipped)


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


def scan_account(
    account: Account,
    context: RunContext,
    factory: ClientFactory,
    sts: BaseClient,
    external_id: str | None,
    redact: Redactor,
    now: datetime,
    plan: ScanPlan | None = None,
) -> AccountResult:
    """Assume the spoke role and collect one account; any failure becomes a `failed` result, never a raise."""
    plan = plan or ScanPlan()
    started = time.monotonic()
    counter = CallCounter()
    assumed = 0
    stage = "assume_role"

    def collect_with_fresh_credentials() -> Collected:
        nonlocal assumed, stage
        stage = "assume_role"
        arn = role_arn(factory.partition, account.account_id, context.role_path, context.role_name)
        assumed += 1
        credentials = call_patiently(
            lambda: assume_spoke_role(sts, arn, context.run_id, external_id), plan.deadline
        )
        redact.add(credentials.secret_access_key, credentials.session_token)
        stage = "collect"
        iam = factory.spoke_client("iam", credentials, counter)
        collected = collect_account_auto(
            iam,
            account.account_id,
            now,
            use_report=plan.use_credential_report,
            concurrency=plan.account_concurrency,
            deadline=plan.deadline,
            report_wait_seconds=plan.report_wait_seconds,
            tag_keys=context.user_tag_keys,
            # The run's own rules name the report-based candidates to confirm live.
            candidates=lambda inventory: evaluate(inventory, context.thresholds, now),
        )
        return collected

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
        message = redact(f"{stage}: {error}")
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


def error_code(error: BaseException) -> str:
    """A short, stable code for the report: the AWS error code, or the kind of transport failure."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or "ClientError")
    if isinstance(error, ConnectTimeoutError | ReadTimeoutError):
        return "Timeout"
    if isinstance(error, BotoCoreError):
        return type(error).__name__
    return "InternalError"


def evaluate_results(results: Sequence[AccountResult], context: RunContext, now: datetime) -> list[Finding]:
    """Findings of every scanned account."""
    return [
        finding
        for result in results
        if result.inventory is not None
        for finding in evaluate(result.inventory, context.thresholds, now)
    ]


def run_inventory(
    context: RunContext,
    discovery: Discovery,
    settings: Settings,
    factory: ClientFactory,
    external_id: str | None,
    redact: Redactor,
    clock: Clock,
    deadline: Deadline | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Scan and evaluate every discovered account within the deadline; the result is ready to publish."""
    now = context.started_at
    plan = ScanPlan.from_settings(settings, deadline)
    results = scan_accounts(discovery, context, settings, factory, external_id, redact, now, plan, progress)
    findings = evaluate_results(results, context, now)
    return RunResult(context=context, accounts=results, findings=findings, finished_at=clock())


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
