"""Fan-out mode: the same run split across a Step Functions Distributed Map, one worker per account.

discover_handler writes the account list (and the run's context) to S3; the Distributed Map reads the
list and invokes worker_handler once per account, which scans it exactly as single mode does and
stores the AccountResult as JSON; finalize_handler merges those results into the same report.json,
findings.csv, latest.json and metrics as single mode. Everything lives under the run's own folder:

    <prefix>/runs/dt=YYYY-MM-DD/<run_id>/fanout/{manifest.json, accounts.json, results/<account>.json}
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import Metrics
from botocore.client import BaseClient

from iam_inventory.assume.clients import ClientFactory
from iam_inventory.collect.credential_report import THROTTLING_CODES
from iam_inventory.config.events import RunRequest
from iam_inventory.config.settings import ConfigError, Settings
from iam_inventory.core.budget import Deadline
from iam_inventory.core.observability import logger
from iam_inventory.core.redact import Redactor
from iam_inventory.discover.accounts import discover_accounts
from iam_inventory.models import (
    AccessKey,
    Account,
    AccountInventory,
    AccountResult,
    AccountStatus,
    CollectionPath,
    IamUser,
    KeyLastUse,
    RunContext,
    RunResult,
    Thresholds,
)
from iam_inventory.pipeline.finalize import Outputs, publish_run
from iam_inventory.pipeline.job import build_run_context
from iam_inventory.pipeline.scan import Clock, ScanPlan, evaluate_results, resolve_external_id, scan_account
from iam_inventory.publish.pointers import run_folder

NO_RESULT_CODE = "NoWorkerResult"
_READERS = 16


class AccountThrottled(RuntimeError):
    """The account stayed throttled until the worker's time ran out; Step Functions retries it later."""


# ---------------------------------------------------------------------------------------------
# Plain data <-> JSON (exact round trip: datetimes keep their offset and microseconds)
# ---------------------------------------------------------------------------------------------
def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def context_to_dict(context: RunContext) -> dict[str, Any]:
    """A RunContext as JSON-ready data."""
    return {
        "run_id": context.run_id,
        "started_at": _time(context.started_at),
        "dry_run": context.dry_run,
        "thresholds": {
            "max_key_age_days": context.thresholds.max_key_age_days,
            "unused_key_days": context.thresholds.unused_key_days,
            "never_used_grace_days": context.thresholds.never_used_grace_days,
        },
        "role_name": context.role_name,
        "role_path": context.role_path,
        "trigger": context.trigger,
        "account_source": context.account_source,
        "user_tag_keys": list(context.user_tag_keys),
        "baseline_requested": context.baseline_requested,
        "overrides": list(context.overrides),
    }


def context_from_dict(data: dict[str, Any]) -> RunContext:
    """The RunContext context_to_dict wrote."""
    started_at = _parse(data["started_at"])
    assert started_at is not None
    return RunContext(
        run_id=data["run_id"],
        started_at=started_at,
        dry_run=data["dry_run"],
        thresholds=Thresholds(**data["thresholds"]),
        role_name=data["role_name"],
        role_path=data["role_path"],
        trigger=data["trigger"],
        account_source=data["account_source"],
        user_tag_keys=tuple(data["user_tag_keys"]),
        baseline_requested=bool(data.get("baseline_requested", False)),
        overrides=tuple(data.get("overrides", ())),
    )


def _key_to_dict(key: AccessKey) -> dict[str, Any]:
    return {
        "access_key_id": key.access_key_id,
        "status": key.status,
        "created_at": _time(key.created_at),
        "last_used_at": _time(key.last_use.used_at),
        "last_used_service": key.last_use.service,
        "last_used_region": key.last_use.region,
    }


def _key_from_dict(data: dict[str, Any]) -> AccessKey:
    return AccessKey(
        access_key_id=data["access_key_id"],
        status=data["status"],
        created_at=_parse(data["created_at"]),  # type: ignore[arg-type]
        last_use=KeyLastUse(
            _parse(data["last_used_at"]), data["last_used_service"], data["last_used_region"]
        ),
    )


def _user_to_dict(user: IamUser) -> dict[str, Any]:
    return {
        "user_name": user.user_name,
        "user_id": user.user_id,
        "arn": user.arn,
        "path": user.path,
        "created_at": _time(user.created_at),
        "console_access": user.console_access,
        "password_last_used": _time(user.password_last_used),
        "mfa_enabled": user.mfa_enabled,
        "access_keys": [_key_to_dict(key) for key in user.access_keys],
    }


def _user_from_dict(data: dict[str, Any]) -> IamUser:
    return IamUser(
        user_name=data["user_name"],
        user_id=data["user_id"],
        arn=data["arn"],
        path=data["path"],
        created_at=_parse(data["created_at"]),  # type: ignore[arg-type]
        console_access=data["console_access"],
        password_last_used=_parse(data["password_last_used"]),
        mfa_enabled=data["mfa_enabled"],
        access_keys=tuple(_key_from_dict(key) for key in data["access_keys"]),
    )


def result_to_dict(result: AccountResult) -> dict[str, Any]:
    """An AccountResult (with its inventory) as JSON-ready data."""
    inventory = result.inventory
    return {
        "account": {"account_id": result.account.account_id, "name": result.account.name},
        "status": result.status.value,
        "error_code": result.error_code,
        "error_message": result.error_message,
        "duration_ms": result.duration_ms,
        "api_calls": result.api_calls,
        "retried_calls": result.retried_calls,
        "collection_path": result.collection_path.value if result.collection_path else None,
        "report_generated_at": _time(result.report_generated_at),
        "inventory": None
        if inventory is None
        else {
            "account_id": inventory.account_id,
            "users": [_user_to_dict(user) for user in inventory.users],
            "root_access_keys_present": inventory.root_access_keys_present,
            "root_mfa_enabled": inventory.root_mfa_enabled,
            "collected_at": _time(inventory.collected_at),
        },
    }


def result_from_dict(data: dict[str, Any]) -> AccountResult:
    """The AccountResult result_to_dict wrote."""
    raw = data["inventory"]
    inventory = (
        None
        if raw is None
        else AccountInventory(
            account_id=raw["account_id"],
            users=tuple(_user_from_dict(user) for user in raw["users"]),
            root_access_keys_present=raw["root_access_keys_present"],
            root_mfa_enabled=raw["root_mfa_enabled"],
            collected_at=_parse(raw["collected_at"]),  # type: ignore[arg-type]
        )
    )
    return AccountResult(
        account=Account(**data["account"]),
        status=AccountStatus(data["status"]),
        inventory=inventory,
        error_code=data["error_code"],
        error_message=data["error_message"],
        duration_ms=data["duration_ms"],
        api_calls=data["api_calls"],
        retried_calls=data["retried_calls"],
        collection_path=CollectionPath(data["collection_path"]) if data["collection_path"] else None,
        report_generated_at=_parse(data["report_generated_at"]),
    )


# ---------------------------------------------------------------------------------------------
# The three steps
# ---------------------------------------------------------------------------------------------
def _bucket(settings: Settings) -> str:
    if not settings.report_bucket:
        raise ConfigError(
            "invalid configuration: environment variable REPORT_BUCKET: required in fanout mode"
        )
    return settings.report_bucket


def _key(settings: Settings, *parts: str) -> str:
    return "/".join(part for part in (settings.report_prefix, *parts) if part)


def _put_json(s3: BaseClient, bucket: str, key: str, data: Any) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(data).encode(), ContentType="application/json")


def _get_json(s3: BaseClient, bucket: str, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def build_context(request: RunRequest, settings: Settings, clock: Clock, request_id: str) -> RunContext:
    """The run's identity and options, exactly as single mode fixes them."""
    return build_run_context(request, settings, clock(), request_id)


def fanout_folder(context: RunContext) -> str:
    """The run's fan-out working folder (relative to the report prefix)."""
    placeholder = RunResult(context=context, accounts=[], findings=[], finished_at=context.started_at)
    return f"{run_folder(placeholder)}/fanout"


def discover_run(
    request: RunRequest,
    settings: Settings,
    clock: Clock,
    request_id: str,
    factory: ClientFactory | None = None,
) -> dict[str, Any]:
    """Discover accounts; write the manifest and the Map's item list to S3; return the run's pointer."""
    bucket = _bucket(settings)
    factory = factory or ClientFactory(settings)
    context = build_context(request, settings, clock, request_id)
    logger.set_correlation_id(context.run_id)
    discovery = discover_accounts(settings, request.accounts, factory.hub_client)
    folder = fanout_folder(context)
    s3 = factory.hub_client("s3")
    items = [asdict(account) for account in discovery.to_scan]
    _put_json(s3, bucket, _key(settings, folder, "accounts.json"), items)
    _put_json(
        s3,
        bucket,
        _key(settings, folder, "manifest.json"),
        {
            "context": context_to_dict(context),
            "to_scan": items,
            "skipped": [result_to_dict(result) for result in discovery.skipped],
        },
    )
    logger.info("fan-out run discovered", extra={"accounts_expected": discovery.expected})
    return {
        "run_id": context.run_id,
        "context": context_to_dict(context),
        "bucket": bucket,
        "folder": folder,
        "accounts_key": _key(settings, folder, "accounts.json"),
        "accounts": len(items),
    }


def scan_one(
    event: dict[str, Any], settings: Settings, deadline: Deadline, factory: ClientFactory | None = None
) -> dict[str, Any]:
    """Scan one account as single mode would and store its result; AccountThrottled asks for a retry."""
    run = event["run"]
    account = Account(**event["account"])
    context = context_from_dict(run["context"])
    logger.set_correlation_id(context.run_id)
    factory = factory or ClientFactory(settings, max_pool_connections=settings.account_concurrency)
    redact = Redactor()
    external_id = resolve_external_id(settings, lambda: factory.hub_client("ssm"))
    redact.add(external_id)
    plan = ScanPlan.from_settings(settings, deadline)
    result = scan_account(
        account,
        context,
        factory,
        factory.hub_client("sts"),
        external_id,
        redact,
        context.started_at,
        plan=plan,
    )
    if result.status is AccountStatus.FAILED and result.error_code in THROTTLING_CODES:
        # Nothing is stored: the retry (Step Functions backs off) writes the result, or finalize
        # reports the account as not scanned.
        raise AccountThrottled(f"account {account.account_id} stayed throttled: {result.error_code}")
    _put_json(
        factory.hub_client("s3"),
        run["bucket"],
        f"{_key(settings, run['folder'], 'results', account.account_id)}.json",
        result_to_dict(result),
    )
    return {"account_id": account.account_id, "status": result.status.value}


def _missing(account: Account) -> AccountResult:
    return AccountResult(
        account=account,
        status=AccountStatus.NOT_SCANNED,
        error_code=NO_RESULT_CODE,
        error_message="no worker result: the worker failed after its retries or never ran",
    )


def finalize_run(
    event: dict[str, Any],
    settings: Settings,
    clock: Clock,
    metrics_sink: Metrics | None,
    factory: ClientFactory | None = None,
) -> RunResult:
    """Merge the workers' results, in discovery order, into the run's report and metrics."""
    run = event["run"]
    factory = factory or ClientFactory(settings, max_pool_connections=_READERS)
    s3 = factory.hub_client("s3")
    manifest = _get_json(s3, run["bucket"], _key(settings, run["folder"], "manifest.json"))
    context = context_from_dict(manifest["context"])
    logger.set_correlation_id(context.run_id)
    accounts = [Account(**item) for item in manifest["to_scan"]]

    def read(account: Account) -> AccountResult:
        key = f"{_key(settings, run['folder'], 'results', account.account_id)}.json"
        try:
            return result_from_dict(_get_json(s3, run["bucket"], key))
        except s3.exceptions.NoSuchKey:
            return _missing(account)

    with ThreadPoolExecutor(max_workers=_READERS, thread_name_prefix="results") as pool:
        results = list(pool.map(read, accounts))
    results += [result_from_dict(item) for item in manifest["skipped"]]
    findings = evaluate_results(results, context, context.started_at)
    result = RunResult(context=context, accounts=results, findings=findings, finished_at=clock())
    publish_run(result, settings, factory, Outputs(metrics=metrics_sink))
    return result
