"""Verify before flag: confirm live each finding whose evidence came from a report that predates the run.

A report handed back by GenerateCredentialReport's COMPLETE can be up to 4 hours old: a user may have
enabled MFA, removed a password, signed in, or used a key since. Each such candidate is re-read with
the one call that holds its evidence (ListMFADevices, GetLoginProfile, GetUser, GetAccessKeyLastUsed,
GetAccountSummary); evaluation then runs on the corrected inventory, so a candidate that does not
hold live is not reported. Status and creation of keys already come live from ListAccessKeys.
https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListMFADevices.html
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccessKeyLastUsed.html
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypeVar

from botocore.client import BaseClient

from iam_inventory.collect.api import (
    UserGone,
    get_key_last_use,
    has_mfa_device,
    read_login_profile,
    read_password_last_used,
    read_root_state,
)
from iam_inventory.collect.calls import map_bounded
from iam_inventory.core.budget import Deadline
from iam_inventory.evaluate.registry import Evidence
from iam_inventory.evaluate.rules import RULES
from iam_inventory.models import AccessKey, AccountInventory, Finding, IamUser

# The evidence behind each rule that can rest on the report, from the rule records.
EVIDENCE: dict[str, Evidence] = {rule.rule_id: rule.evidence for rule in RULES if rule.evidence}
T = TypeVar("T")


@dataclass(slots=True)
class _Calls:
    count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def made(self, call: Callable[[], T]) -> T:
        with self._lock:
            self.count += 1
        return call()


def verify_candidates(
    iam: BaseClient,
    inventory: AccountInventory,
    candidates: Iterable[Finding],
    concurrency: int,
    deadline: Deadline,
) -> tuple[AccountInventory, int]:
    """The inventory with every report-based candidate's evidence read live, and the calls that took."""
    pending = [finding for finding in candidates if not finding.verified_live and finding.rule_id in EVIDENCE]
    calls = _Calls()
    root: dict[str, Any] = {}
    if any(EVIDENCE[finding.rule_id] is Evidence.ROOT for finding in pending):
        root = calls.made(lambda: read_root_state(iam, deadline)).inventory_fields()
        # A root certificate the report shows active stands while one is still present (no API
        # reads root's certificate status); one the report shows inactive is not made active.
        root["root_signing_certificate_active"] = (
            root["root_signing_certificate_active"] and inventory.root_signing_certificate_active
        )
    wanted: dict[str, set[str]] = {}
    for finding in pending:
        if finding.user_name is not None and EVIDENCE[finding.rule_id] is not Evidence.ROOT:
            wanted.setdefault(finding.user_name, set()).add(
                finding.access_key_id or EVIDENCE[finding.rule_id]
            )

    # Only users with something to read go to the pool (a submit costs as much as a small user's check).
    checked = iter(
        map_bounded(
            lambda user: verify_user(iam, user, wanted[user.user_name], calls, deadline),
            [user for user in inventory.users if wanted.get(user.user_name)],
            concurrency,
        )
    )
    listed = [next(checked) if wanted.get(user.user_name) else user for user in inventory.users]
    users = [user for user in listed if user is not None]
    verified = replace(inventory, users=tuple(users), **root)
    return verified, calls.count


def verify_user(
    iam: BaseClient, user: IamUser, needs: set[str], calls: _Calls, deadline: Deadline
) -> IamUser | None:
    """The user with the evidence in `needs` read live ("mfa", "password", or key ids); None if deleted."""
    name = user.user_name
    mfa, last_used, changed, console = (
        user.mfa_enabled,
        user.password_last_used,
        user.password_changed_at,
        user.console_access,
    )
    try:
        if Evidence.MFA in needs:
            mfa = calls.made(lambda: has_mfa_device(iam, name, deadline))
        if Evidence.PASSWORD in needs:
            last_used = calls.made(lambda: read_password_last_used(iam, name, deadline))
        # The password itself only needs checking when a finding would still stand on it.
        if (Evidence.MFA in needs and not mfa) or Evidence.PASSWORD in needs:
            profile_created = calls.made(lambda: read_login_profile(iam, name, deadline))
            console = profile_created is not None
            # The report's password_last_changed stands unless the profile was created after it (the
            # password was removed and set again since): then when it was last set is unknown.
            if profile_created is not None and changed is not None and profile_created > changed:
                changed = None
    except UserGone:
        return None
    keys: list[AccessKey] = []
    for key in user.access_keys:
        if key.access_key_id not in needs:
            keys.append(key)
            continue
        last_use = calls.made(partial(get_key_last_use, iam, key.access_key_id, deadline, user_name=name))
        if last_use is not None:  # None: deleted since ListAccessKeys
            keys.append(replace(key, last_use=last_use, last_use_from_report=False))
    console_checked = bool(needs & {Evidence.MFA, Evidence.PASSWORD})
    return replace(
        user,
        console_access=console,
        mfa_enabled=mfa if console else False,
        password_last_used=last_used if console else None,
        password_changed_at=changed if console else None,
        access_keys=tuple(keys),
        console_from_report=user.console_from_report and not console_checked,
    )
