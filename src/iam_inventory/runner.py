"""Run one inventory: discover, then for each account assume -> collect -> evaluate, then publish."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from iam_inventory.aws import CallCounter, ClientFactory, assume_spoke_role, role_arn
from iam_inventory.collector import collect_account
from iam_inventory.config import Settings
from iam_inventory.discovery import Discovery
from iam_inventory.models import (
    Account,
    AccountInventory,
    AccountResult,
    AccountStatus,
    Finding,
    RunContext,
    RunResult,
)
from iam_inventory.observability import logger
from iam_inventory.redact import Redactor
from iam_inventory.rules import evaluate
from iam_inventory.tags import collect_user_tags

Clock = Callable[[], datetime]
# Error codes of a spoke session that expired; STS says ExpiredToken, JSON-protocol services add "Exception".
EXPIRED_CREDENTIAL_CODES = frozenset({"ExpiredToken", "ExpiredTokenException"})
# Told of each finished account, with how many are done out of how many (the CLI's progress bar).
Progress = Callable[[AccountResult, int, int], None]


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
    progress: Progress | None = None,
) -> list[AccountResult]:
    """Scan every discovered account with a bounded pool; results keep discovery order."""
    sts = factory.hub_client("sts")

    def scan(account: Account) -> AccountResult:
        return scan_account(account, context, factory, sts, external_id, redact, now)

    with ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="account") as pool:
        futures = [pool.submit(scan, account) for account in discovery.to_scan]
        if progress is not None:
            # Reported from this thread only, so the callback needs no locking of its own.
            total = len(futures)
            for done, future in enumerate(as_completed(futures), start=1):
                progress(future.result(), done, total)
        scanned = [future.result() for future in futures]
    return scanned + list(discovery.skipped)


def scan_account(
    account: Account,
    context: RunContext,
    factory: ClientFactory,
    sts: BaseClient,
    external_id: str | None,
    redact: Redactor,
    now: datetime,
) -> AccountResult:
    """Assume the spoke role and collect one account; any failure becomes a `failed` result, never a raise."""
    started = time.monotonic()
    counter = CallCounter()
    assumed = 0
    stage = "assume_role"

    def collect_with_fresh_credentials() -> AccountInventory:
        nonlocal assumed, stage
        stage = "assume_role"
        arn = role_arn(factory.partition, account.account_id, context.role_path, context.role_name)
        assumed += 1
        credentials = assume_spoke_role(sts, arn, context.run_id, external_id)
        redact.add(credentials.secret_access_key, credentials.session_token)
        stage = "collect"
        iam = factory.spoke_client("iam", credentials, counter)
        inventory = collect_account(iam, account.account_id, now)
        return collect_user_tags(iam, inventory, context.user_tag_keys)

    try:
        try:
            inventory = collect_with_fresh_credentials()
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
            inventory = collect_with_fresh_credentials()
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
    return AccountResult(
        account=account,
        status=AccountStatus.SCANNED,
        inventory=inventory,
        duration_ms=_elapsed_ms(started),
        api_calls=counter.calls + assumed,  # + the AssumeRole calls made with the hub's client
        retried_calls=counter.retries,
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
    progress: Progress | None = None,
) -> RunResult:
    """Scan and evaluate every discovered account; the result is ready to publish."""
    now = context.started_at
    results = scan_accounts(discovery, context, settings, factory, external_id, redact, now, progress)
    findings = evaluate_results(results, context, now)
    return RunResult(context=context, accounts=results, findings=findings, finished_at=clock())


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
