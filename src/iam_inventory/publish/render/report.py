"""The entries of the versioned JSON report (run, accounts, inventory, findings) and the run totals (pure)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from iam_inventory.core.clock import iso as iso  # re-exported: the report format's timestamps
from iam_inventory.evaluate.registry import days_between
from iam_inventory.evaluate.rules import RULE_IDS
from iam_inventory.models import (
    SEVERITY_ORDER,
    AccessKey,
    AccountInventory,
    AccountResult,
    AccountStatus,
    Finding,
    IamUser,
    RunContext,
    Severity,
)
from iam_inventory.models.credentials import CredentialType
from iam_inventory.publish.render.credentials import counts_summary, credential_counts, user_credentials_entry

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


@dataclass(slots=True)
class RunTotals:
    """Counts for the whole run, added up one account at a time (nothing else is kept)."""

    statuses: Counter[AccountStatus] = field(default_factory=Counter)
    users: int = 0
    console_users: int = 0
    access_keys: int = 0
    active_access_keys: int = 0
    api_calls: int = 0
    retried_calls: int = 0
    by_severity: Counter[Severity] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    # Active findings past their SLA, by severity; findings an unexpired exception suppresses.
    overdue: Counter[Severity] = field(default_factory=Counter)
    suppressed: int = 0
    # (credential kind, active) -> how many, over every user scanned.
    credentials: Counter[tuple[CredentialType, bool]] = field(default_factory=Counter)

    def add(self, item: AccountResult, findings: tuple[Finding, ...] | list[Finding]) -> None:
        """Count one account and its findings."""
        self.statuses[item.status] += 1
        self.api_calls += item.api_calls
        self.retried_calls += item.retried_calls
        users = item.inventory.users if item.inventory is not None else ()
        self.users += len(users)
        self.console_users += sum(1 for user in users if user.console_access)
        keys = [key for user in users for key in user.access_keys]
        self.access_keys += len(keys)
        self.active_access_keys += sum(1 for key in keys if key.active)
        self.credentials.update(credential_counts(users))
        self.by_severity.update(finding.severity for finding in findings)
        self.by_rule.update(finding.rule_id for finding in findings)

    @property
    def expected(self) -> int:
        """Every account of the run, whatever its status."""
        return sum(self.statuses.values())

    @property
    def findings(self) -> int:
        """Findings of the accounts scanned in this run."""
        return sum(self.by_severity.values())

    def summary(self) -> dict[str, Any]:
        """The report's `summary` object: accounts by status, users, keys, findings by severity and rule."""
        return {
            "accounts": {
                "expected": self.expected,
                **{status.value: self.statuses[status] for status in AccountStatus},
            },
            "users": self.users,
            "console_users": self.console_users,
            "access_keys": self.access_keys,
            "active_access_keys": self.active_access_keys,
            "api_calls": self.api_calls,
            "retried_calls": self.retried_calls,
            "credentials": counts_summary(self.credentials),
            "findings": {
                "total": self.findings,
                "by_severity": {severity.value: self.by_severity[severity] for severity in SEVERITY_ORDER},
                "by_rule": {rule_id: self.by_rule[rule_id] for rule_id in RULE_IDS},
                "overdue_by_severity": {
                    severity.value: self.overdue[severity] for severity in SEVERITY_ORDER
                },
                "suppressed": self.suppressed,
            },
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
