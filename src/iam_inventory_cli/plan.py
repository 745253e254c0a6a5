"""A staged remediation plan built from a saved report: JSON for review, and a guarded shell script.

Stage 1 deactivates keys; stage 2, not before the waiting period, deletes them. Before every change the
script reads the key's last use again and stops if the key was used after the use the plan was based on.
Service-specific credentials, SSH keys and signing certificates go through the same two stages by their
own Update/Delete calls, guarded by a fresh read of their status (plan_credentials.py).
The job itself never runs any of this: a person reviews the plan and runs it with their own credentials.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from iam_inventory.compare.finding_codec import finding_from_entry
from iam_inventory.config.validation import ACCOUNT_ID_PATTERN
from iam_inventory.core.clock import parse_iso
from iam_inventory.core.errors import IamInventoryError
from iam_inventory.evaluate.owners import OwnerConfig, resolve_owner
from iam_inventory.evaluate.registry import Scope
from iam_inventory.evaluate.rules import ACCESS_KEY_EXPOSED, RULES, remediation_for
from iam_inventory.models.credentials import CredentialType
from iam_inventory_cli.plan_credentials import (
    CredentialAction,
    credential_action,
    known_credentials,
    plannable,
)

NEVER = "never"
# The rules whose finding names one key: the plan retires that key (deactivate, then delete).
_KEY_RULES = frozenset(
    rule.rule_id
    for rule in RULES
    if rule.scope is Scope.CREDENTIAL and rule.credential is CredentialType.ACCESS_KEY
)
_ACCOUNT = re.compile(ACCOUNT_ID_PATTERN)
_KEY_ID = re.compile(r"^[A-Z0-9]{16,128}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InvalidPlanInput(IamInventoryError):
    """The report cannot be planned from (a finding with a malformed account or key id, say)."""


@dataclass(frozen=True, slots=True)
class KeyAction:
    """One access key to deactivate (when active) and later delete, with the findings behind it."""

    account_id: str
    user_name: str
    access_key_id: str
    active: bool
    # The last use the plan is based on ("YYYY-MM-DDTHH:MM:SS" UTC, or "never"); any later use stops it.
    last_used: str
    owner: str
    rule_ids: tuple[str, ...]
    finding_ids: tuple[str, ...]
    profile: str | None = None

    @property
    def exposed(self) -> bool:
        """AWS found this user's key in public: deactivate it whatever its recent use (which is reported)."""
        return ACCESS_KEY_EXPOSED.rule_id in self.rule_ids


@dataclass(frozen=True, slots=True)
class ManualAction:
    """A finding a person fixes by hand (MFA, root key, choosing between two keys): text and commands."""

    finding_id: str
    rule_id: str
    account_id: str
    user_name: str | None
    owner: str
    text: str
    commands: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RemediationPlan:
    """Everything the plan files hold."""

    created_at: datetime
    run_id: str
    wait_days: int
    owner: str | None
    rule: str | None
    keys: tuple[KeyAction, ...]
    manual: tuple[ManualAction, ...]
    # Service-specific credentials, SSH keys and signing certificates (plan_credentials.py).
    credentials: tuple[CredentialAction, ...] = ()

    @property
    def delete_not_before(self) -> datetime:
        """Stage 2 refuses to run before this moment."""
        return self.created_at + timedelta(days=self.wait_days)


def build_plan(
    report: Mapping[str, Any],
    created_at: datetime,
    wait_days: int,
    owners: OwnerConfig,
    *,
    owner: str | None = None,
    rule: str | None = None,
    profile_format: str | None = None,
) -> RemediationPlan:
    """The plan for the report's findings, filtered by owner and rule."""
    try:
        ou_paths = {item["account_id"]: item.get("ou_path") or "" for item in report["accounts"]}
        known_keys = _known_keys(report)
        known_others = known_credentials(report)
    except (KeyError, TypeError, AttributeError) as error:
        raise InvalidPlanInput(f"report accounts or inventory are malformed ({error!r})") from None
    started_at = _stamp(report["run"].get("started_at")) or NEVER
    keys: dict[tuple[str, str, str], KeyAction] = {}
    credentials: dict[tuple[str, str, str], CredentialAction] = {}
    manual: list[ManualAction] = []
    for entry in report["findings"]:
        finding = _finding(entry)
        if rule is not None and finding.rule_id != rule:
            continue
        found_owner = (
            entry.get("owner")
            or resolve_owner(finding.tags, None, ou_paths.get(finding.account_id, ""), owners)[0]
        )
        if owner is not None and found_owner != owner:
            continue
        profile = profile_format.format(account_id=finding.account_id) if profile_format else None
        if finding.rule_id in _KEY_RULES and finding.user_name and finding.access_key_id:
            where = (finding.account_id, finding.user_name, finding.access_key_id)
            known = known_keys.get(where, {})
            previous = keys.get(where)
            keys[where] = KeyAction(
                *where,
                active=known.get("status", "Active") == "Active",
                # A key missing from the inventory: anything after the run started is news.
                last_used=_stamp(known.get("last_used_at")) or (NEVER if known else started_at),
                owner=found_owner,
                rule_ids=(*(previous.rule_ids if previous else ()), finding.rule_id),
                finding_ids=(*(previous.finding_ids if previous else ()), finding.finding_id),
                profile=profile,
            )
            continue
        kind = RULES[finding.rule_id].credential if finding.rule_id in RULES else None
        if kind is not None and plannable(finding, kind):
            where = (finding.account_id, str(finding.user_name), str(finding.credential_id))
            credentials[where] = credential_action(
                finding, kind, where, known_others, credentials.get(where), found_owner, profile
            )
            continue
        remediation = remediation_for(finding, wait_days=wait_days, profile=profile)
        manual.append(
            ManualAction(
                finding.finding_id,
                finding.rule_id,
                finding.account_id,
                finding.user_name,
                found_owner,
                remediation.text,
                remediation.commands,
            )
        )
    return RemediationPlan(
        created_at,
        str(report["run"].get("run_id", "")),
        wait_days,
        owner,
        rule,
        tuple(keys.values()),
        tuple(manual),
        tuple(credentials.values()),
    )


def _finding(entry: Any) -> Any:
    try:
        finding = finding_from_entry(entry)
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidPlanInput(f"report finding {safe_text(str(entry)[:80])}: malformed ({error})") from None
    if not _ACCOUNT.match(str(finding.account_id)):
        raise InvalidPlanInput(f"finding {finding.finding_id}: account_id is not a 12-digit account id")
    if finding.access_key_id is not None and not _KEY_ID.match(str(finding.access_key_id)):
        raise InvalidPlanInput(f"finding {finding.finding_id}: access_key_id is not an access key id")
    if finding.credential_id is not None and not isinstance(finding.credential_id, str):
        raise InvalidPlanInput(f"finding {finding.finding_id}: credential_id is not a string")
    if finding.user_name is not None and not isinstance(finding.user_name, str):
        raise InvalidPlanInput(f"finding {finding.finding_id}: user_name is not a string")
    return finding


def _known_keys(report: Mapping[str, Any]) -> dict[tuple[str, str, str], Mapping[str, Any]]:
    return {
        (account["account_id"], user["user_name"], key["access_key_id"]): key
        for account in report["inventory"]
        for user in account.get("users", [])
        for key in user.get("access_keys", [])
    }


def _stamp(value: Any) -> str | None:
    """ISO 8601 UTC text cut to seconds, comparable as text with the AWS CLI's output."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = parse_iso(value)
    except ValueError:
        raise InvalidPlanInput(f"report time {safe_text(value)!r} is not ISO 8601") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def safe_text(text: str) -> str:
    """Text with control characters replaced, safe on one line (a newline would end a shell comment)."""
    return _CONTROL.sub("?", text)
