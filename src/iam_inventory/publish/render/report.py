"""The entries of the versioned JSON report: run, accounts, inventory, and the trend's numbers (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from iam_inventory.core.clock import iso as iso  # re-exported: the report format's timestamps
from iam_inventory.evaluate.registry import days_between
from iam_inventory.models import (
    AccessKey,
    AccountInventory,
    AccountResult,
    IamUser,
    RunContext,
)
from iam_inventory.publish.render.credentials import user_credentials_entry

# 1.2: run.status (complete/degraded/failed), run.baseline, run.folder, changes.state; new/resolved may
# be null when the previous state could not be read.
SCHEMA_VERSION = "1.6"


def run_entry(context: RunContext, finished_at: datetime) -> dict[str, Any]:
    """The report's `run` object, before the status the whole run decides (added by the writer)."""
    return {
        "run_id": context.run_id,
        "trigger": context.trigger,
        "started_at": iso(context.started_at),
        "finished_at": iso(finished_at),
        "dry_run": context.dry_run,
        "role_name": context.role_name,
        "role_path": context.role_path,
        "account_source": context.account_source,
        "thresholds": {
            "max_key_age_days": context.thresholds.max_key_age_days,
            "unused_key_days": context.thresholds.unused_key_days,
            "never_used_grace_days": context.thresholds.never_used_grace_days,
            "max_api_key_lifetime_days": context.thresholds.max_api_key_lifetime_days,
        },
        "overrides": list(context.overrides),
    }


def account_entry(item: AccountResult, findings: int) -> dict[str, Any]:
    """One account's status and counts."""
    inventory = item.inventory
    return {
        "account_id": item.account.account_id,
        "name": item.account.name,
        "ou_path": item.account.ou_path,
        "status": item.status.value,
        "error_code": item.error_code,
        "error_message": item.error_message,
        "duration_ms": item.duration_ms,
        "api_calls": item.api_calls,
        "retried_calls": item.retried_calls,
        "users": len(inventory.users) if inventory else 0,
        "access_keys": sum(len(user.access_keys) for user in inventory.users) if inventory else 0,
        "findings": findings,
        "collection_path": item.collection_path.value if item.collection_path else None,
        "credential_report_generated_at": iso(item.report_generated_at),
        "verification_calls": item.verification_calls,
        "warnings": list(item.warnings),
    }


def inventory_entry(inventory: AccountInventory, now: datetime) -> dict[str, Any]:
    """One scanned account's users and keys."""
    return {
        "account_id": inventory.account_id,
        "collected_at": iso(inventory.collected_at),
        "root_access_keys_present": inventory.root_access_keys_present,
        "root_mfa_enabled": inventory.root_mfa_enabled,
        "root_password_present": inventory.root_password_present,
        "root_credentials_removed": inventory.root_credentials_removed,
        "root_signing_certificate_active": inventory.root_signing_certificate_active,
        "unreadable_credential_kinds": [kind.value for kind in inventory.unreadable_credential_kinds],
        "users": [_user_entry(user, now) for user in inventory.users],
    }


def _user_entry(user: IamUser, now: datetime) -> dict[str, Any]:
    return {
        "user_name": user.user_name,
        "user_id": user.user_id,
        "arn": user.arn,
        "path": user.path,
        "created_at": iso(user.created_at),
        "console_access": user.console_access,
        "password_last_used": iso(user.password_last_used),
        "mfa_enabled": user.mfa_enabled,
        "tags": dict(user.tags),
        "access_keys": [_key_entry(key, now) for key in user.access_keys],
        **user_credentials_entry(user, now),
    }


def _key_entry(key: AccessKey, now: datetime) -> dict[str, Any]:
    return {
        "access_key_id": key.access_key_id,
        "status": key.status,
        "created_at": iso(key.created_at),
        "age_days": days_between(key.created_at, now),
        "never_used": key.last_use.never_used,
        "last_used_at": iso(key.last_use.used_at),
        "last_used_service": key.last_use.service,
        "last_used_region": key.last_use.region,
    }


def history_entry(report: dict[str, Any]) -> dict[str, Any]:
    """The few numbers of one run that the trend chart needs."""
    summary, changes = report["summary"], report.get("changes") or {}
    return {
        "run_id": report["run"]["run_id"],
        "started_at": report["run"]["started_at"],
        "status": report["run"].get("status"),
        "accounts_scanned": summary["accounts"]["scanned"],
        "accounts_failed": summary["accounts"]["failed"],
        "findings": summary["findings"]["total"],
        "by_severity": dict(summary["findings"]["by_severity"]),
        "new": changes.get("new") or 0,
        "resolved": changes.get("resolved") or 0,
        "overdue": sum((summary["findings"].get("overdue_by_severity") or {}).values()),
        "suppressed": summary["findings"].get("suppressed", 0),
    }
