"""Discover the accounts to inventory: a static list (event, env or SSM) or AWS Organizations."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from botocore.client import BaseClient

from iam_inventory.config import ACCOUNT_ID_PATTERN, AccountSource, Settings
from iam_inventory.models import Account, AccountResult, AccountStatus

_ACCOUNT_ID = re.compile(ACCOUNT_ID_PATTERN)


class DiscoveryError(RuntimeError):
    """The account list could not be built; the run must fail loudly rather than scan nothing."""


@dataclass(frozen=True, slots=True)
class Discovery:
    """Accounts to scan, and accounts deliberately not scanned (with the reason)."""

    to_scan: tuple[Account, ...]
    skipped: tuple[AccountResult, ...] = ()

    @property
    def expected(self) -> int:
        """Number of accounts the run accounts for."""
        return len(self.to_scan) + len(self.skipped)


def discover_accounts(
    settings: Settings,
    override: tuple[str, ...] | None,
    hub_client: Callable[[str], BaseClient],
) -> Discovery:
    """The accounts for this run: the event's list wins, then the configured source."""
    if override:
        return Discovery(to_scan=_unique_accounts(override))
    if settings.account_source is AccountSource.ORGANIZATIONS:
        return discover_organization_accounts(hub_client("organizations"))
    if settings.account_ids_parameter:
        return Discovery(to_scan=_unique_accounts(read_account_parameter(hub_client("ssm"), settings)))
    if settings.account_ids:
        return Discovery(to_scan=_unique_accounts(settings.account_ids))
    raise DiscoveryError(
        "no accounts to scan: set ACCOUNT_IDS or ACCOUNT_IDS_PARAMETER, use ACCOUNT_SOURCE=organizations, "
        "or pass 'accounts' in the event"
    )


def read_account_parameter(ssm: BaseClient, settings: Settings) -> tuple[str, ...]:
    """Account ids from an SSM String/StringList parameter (comma or whitespace separated)."""
    name = settings.account_ids_parameter
    value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    ids = tuple(part for part in re.split(r"[,\s]+", value) if part)
    bad = [part for part in ids if not _ACCOUNT_ID.match(part)]
    if bad:
        raise DiscoveryError(
            f"SSM parameter {name}: {len(bad)} value(s) are not 12-digit account ids: {bad[:3]}"
        )
    if not ids:
        raise DiscoveryError(f"SSM parameter {name} holds no account ids")
    return ids


def discover_organization_accounts(organizations: BaseClient) -> Discovery:
    """Every account of the organization; accounts that are not ACTIVE are skipped with the reason."""
    to_scan: list[Account] = []
    skipped: list[AccountResult] = []
    for page in organizations.get_paginator("list_accounts").paginate():
        for raw in page["Accounts"]:
            account = Account(account_id=raw["Id"], name=raw.get("Name", ""))
            state = raw.get("State") or raw.get("Status", "ACTIVE")
            if state == "ACTIVE":
                to_scan.append(account)
            else:
                skipped.append(
                    AccountResult(
                        account=account,
                        status=AccountStatus.SKIPPED,
                        error_code="AccountNotActive",
                        error_message=f"account state is {state}",
                    )
                )
    return Discovery(to_scan=tuple(to_scan), skipped=tuple(skipped))


def _unique_accounts(account_ids: tuple[str, ...]) -> tuple[Account, ...]:
    return tuple(Account(account_id=account_id) for account_id in dict.fromkeys(account_ids))
