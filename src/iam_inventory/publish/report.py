"""Render a run as the versioned JSON report and the findings CSV (pure: no I/O)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import datetime
from typing import Any

from iam_inventory.evaluate.rules import RULE_IDS, days_between
from iam_inventory.models import (
    SEVERITY_ORDER,
    AccessKey,
    AccountInventory,
    AccountResult,
    AccountStatus,
    Finding,
    FindingChanges,
    IamUser,
    RunResult,
    Severity,
)

SCHEMA_VERSION = "1.1"
FINDINGS_CSV_COLUMNS: tuple[str, ...] = (
    "finding_id",
    "account_id",
    "account_name",
    "rule_id",
    "severity",
    "cis_control",
    "user_name",
    "access_key_id",
    "measured_value",
    "threshold",
    "unit",
    "message",
    # Added in schema 1.1, appended so that the columns before them keep their positions.
    "tags",
    "first_seen_at",
    "is_new",
)
INVENTORY_CSV_COLUMNS: tuple[str, ...] = (
    "account_id",
    "account_name",
    "user_name",
    "user_id",
    "user_arn",
    "user_path",
    "user_created_at",
    "console_access",
    "mfa_enabled",
    "password_last_used",
    "access_key_id",
    "key_status",
    "key_created_at",
    "key_age_days",
    "key_never_used",
    "key_last_used_at",
    "key_last_used_service",
    "key_last_used_region",
    "tags",
)
# Spreadsheets execute cells starting with these (formula injection); IAM names may start with + = @ -.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with a Z suffix for UTC, or None."""
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def build_report(result: RunResult) -> dict[str, Any]:
    """The full report document: run metadata, per-account status, inventory, findings and summary."""
    context = result.context
    now = context.started_at
    findings_by_account = Counter(finding.account_id for finding in result.findings)
    changes = result.changes
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {
            "run_id": context.run_id,
            "trigger": context.trigger,
            "started_at": iso(context.started_at),
            "finished_at": iso(result.finished_at),
            "dry_run": context.dry_run,
            "role_name": context.role_name,
            "role_path": context.role_path,
            "account_source": context.account_source,
            "thresholds": {
                "max_key_age_days": context.thresholds.max_key_age_days,
                "unused_key_days": context.thresholds.unused_key_days,
                "never_used_grace_days": context.thresholds.never_used_grace_days,
            },
        },
        "summary": build_summary(result),
        "accounts": [
            _account_entry(item, findings_by_account[item.account.account_id]) for item in result.accounts
        ],
        "inventory": [
            _inventory_entry(item.inventory, now) for item in result.accounts if item.inventory is not None
        ],
        "findings": [finding_entry(finding, changes, now) for finding in result.findings],
        "changes": _changes_entry(result),
    }


def build_summary(result: RunResult) -> dict[str, Any]:
    """Counts for the whole run: accounts by status, users, keys, findings by severity and rule."""
    statuses = Counter(item.status for item in result.accounts)
    inventories = [item.inventory for item in result.accounts if item.inventory is not None]
    users = [user for inventory in inventories for user in inventory.users]
    keys = [key for user in users for key in user.access_keys]
    by_severity = Counter(finding.severity for finding in result.findings)
    by_rule = Counter(finding.rule_id for finding in result.findings)
    return {
        "accounts": {
            "expected": len(result.accounts),
            **{status.value: statuses[status] for status in AccountStatus},
        },
        "users": len(users),
        "console_users": sum(1 for user in users if user.console_access),
        "access_keys": len(keys),
        "active_access_keys": sum(1 for key in keys if key.active),
        "api_calls": sum(item.api_calls for item in result.accounts),
        "retried_calls": sum(item.retried_calls for item in result.accounts),
        "findings": {
            "total": len(result.findings),
            "by_severity": {severity.value: by_severity[severity] for severity in SEVERITY_ORDER},
            "by_rule": {rule_id: by_rule[rule_id] for rule_id in RULE_IDS},
        },
    }


def finding_entry(
    finding: Finding, changes: FindingChanges | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """One finding as a JSON object; without `changes` it is new and first seen `now`."""
    first_seen = changes.first_seen_at.get(finding.finding_id) if changes else None
    return {
        "finding_id": finding.finding_id,
        "rule_id": finding.rule_id,
        "severity": finding.severity.value,
        "cis_control": finding.cis_control,
        "account_id": finding.account_id,
        "user_name": finding.user_name,
        "access_key_id": finding.access_key_id,
        "measured_value": finding.measured_value,
        "threshold": finding.threshold,
        "unit": finding.unit,
        "message": finding.message,
        "tags": dict(finding.tags),
        "first_seen_at": iso(first_seen or now),
        "is_new": changes is None or finding.finding_id in changes.new_ids,
        "verified_live": finding.verified_live,
    }


def finding_from_entry(entry: dict[str, Any]) -> Finding:
    """A finding read back from a report (the previous run's, for changes)."""
    return Finding(
        finding_id=entry["finding_id"],
        rule_id=entry["rule_id"],
        severity=Severity(entry["severity"]),
        cis_control=entry["cis_control"],
        account_id=entry["account_id"],
        user_name=entry["user_name"],
        access_key_id=entry["access_key_id"],
        measured_value=entry["measured_value"],
        threshold=entry["threshold"],
        unit=entry["unit"],
        message=entry["message"],
        tags=dict(entry.get("tags") or {}),
        verified_live=entry.get("verified_live", True),
    )


def _changes_entry(result: RunResult) -> dict[str, Any]:
    changes = result.changes
    if changes is None:
        return {
            "previous_run_id": None,
            "previous_folder": None,
            "new": len(result.findings),
            "resolved": 0,
            "new_finding_ids": [finding.finding_id for finding in result.findings],
            "resolved_findings": [],
            "carried_over": [],
        }
    scanned = {item.account.account_id for item in result.accounts if item.inventory is not None}
    return {
        "previous_run_id": changes.previous_run_id,
        "previous_folder": changes.previous_folder,
        "new": len(changes.new_ids),
        "resolved": len(changes.resolved),
        "new_finding_ids": [f.finding_id for f in result.findings if f.finding_id in changes.new_ids],
        "resolved_findings": [finding_entry(f, changes) for f in changes.resolved],
        # Findings of accounts this run could not scan: neither resolved nor new, kept for the next run.
        "carried_over": [
            finding_entry(f, changes) for f in changes.carried_over if f.account_id not in scanned
        ],
    }


def _account_entry(item: AccountResult, findings: int) -> dict[str, Any]:
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


def _inventory_entry(inventory: AccountInventory, now: datetime) -> dict[str, Any]:
    return {
        "account_id": inventory.account_id,
        "collected_at": iso(inventory.collected_at),
        "root_access_keys_present": inventory.root_access_keys_present,
        "root_mfa_enabled": inventory.root_mfa_enabled,
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


def render_report_json(report: dict[str, Any]) -> bytes:
    """The report as pretty, stable JSON bytes."""
    # json.dumps with an indent joins a list of every token at the end: for a 1,000-account report
    # that list costs over a gigabyte. Streaming the same tokens into a buffer costs the output's size.
    buffer = io.BytesIO()
    for chunk in json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(report):
        buffer.write(chunk.encode())
    buffer.write(b"\n")
    return buffer.getvalue()


def csv_safe(value: Any) -> str:
    """A cell value that a spreadsheet will show as text, never evaluate as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def format_tags(tags: dict[str, str] | None) -> str:
    """Tags as one readable cell: `owner=alice@example.com; team=payments`."""
    return "; ".join(f"{key}={value}" for key, value in (tags or {}).items())


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return csv_safe(format_tags(value))
    return csv_safe(value)


def finding_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per finding (typed values), with the account name joined in."""
    names = {account["account_id"]: account["name"] for account in report["accounts"]}
    return [
        {
            **{column: None for column in FINDINGS_CSV_COLUMNS},
            **finding,
            "account_name": names.get(finding["account_id"], ""),
            "tags": finding.get("tags") or {},
        }
        for finding in report["findings"]
    ]


def inventory_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per access key, plus one per user without keys (key columns empty)."""
    names = {account["account_id"]: account["name"] for account in report["accounts"]}
    rows = []
    for account in report["inventory"]:
        for user in account["users"]:
            base = {
                "account_id": account["account_id"],
                "account_name": names.get(account["account_id"], ""),
                "user_name": user["user_name"],
                "user_id": user["user_id"],
                "user_arn": user["arn"],
                "user_path": user["path"],
                "user_created_at": user["created_at"],
                "console_access": user["console_access"],
                "mfa_enabled": user["mfa_enabled"],
                "password_last_used": user["password_last_used"],
            }
            keys = user["access_keys"] or [None]
            for key in keys:
                rows.append({**base, **_key_columns(key), "tags": user.get("tags") or {}})
    return rows


def _key_columns(key: dict[str, Any] | None) -> dict[str, Any]:
    if key is None:
        return dict.fromkeys(INVENTORY_CSV_COLUMNS[10:18])
    return {
        "access_key_id": key["access_key_id"],
        "key_status": key["status"],
        "key_created_at": key["created_at"],
        "key_age_days": key["age_days"],
        "key_never_used": key["never_used"],
        "key_last_used_at": key["last_used_at"],
        "key_last_used_service": key["last_used_service"],
        "key_last_used_region": key["last_used_region"],
    }


def _render_csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[column]) for column in columns])
    return buffer.getvalue().encode()


def render_findings_csv(report: dict[str, Any]) -> bytes:
    """One row per finding, columns in FINDINGS_CSV_COLUMNS order."""
    return _render_csv(FINDINGS_CSV_COLUMNS, finding_rows(report))


def render_inventory_csv(report: dict[str, Any]) -> bytes:
    """One row per access key plus one per user without keys, columns in INVENTORY_CSV_COLUMNS order."""
    return _render_csv(INVENTORY_CSV_COLUMNS, inventory_rows(report))
