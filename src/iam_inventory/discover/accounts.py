"""Discover the accounts to inventory: a static list (event, env or SSM) or AWS Organizations."""

from __future__ import annotations

import re

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from iam_inventory.assume.clients import ClientFactory
from iam_inventory.config.settings import AccountSource, Settings
from iam_inventory.config.validation import ACCOUNT_ID_PATTERN
from iam_inventory.discover.discovery import Discovery, DiscoveryError, describe_error
from iam_inventory.discover.organizations import discover_from_organizations
from iam_inventory.models import Account

_ACCOUNT_ID = re.compile(ACCOUNT_ID_PATTERN)


def discover_accounts(
    settings: Settings,
    override: tuple[str, ...] | None,
    factory: ClientFactory,
    run_id: str = "discovery",
) -> Discovery:
    """The accounts for this run: the event's list wins, then the configured source."""
    if override:
        return Discovery(to_scan=_unique_accounts(override))
    if settings.account_source is AccountSource.ORGANIZATIONS:
        return discover_from_organizations(settings, factory, run_id)
    if settings.account_ids_parameter:
        return Discovery(
            to_scan=_unique_accounts(read_account_parameter(factory.hub_client("ssm"), settings))
        )
    if settings.account_ids:
        return Discovery(to_scan=_unique_accounts(settings.account_ids))
    raise DiscoveryError(
        "no accounts to scan: set ACCOUNT_IDS or ACCOUNT_IDS_PARAMETER, use ACCOUNT_SOURCE=organizations, "
        "or pass 'accounts' in the event"
    )


def describe_account_source(settings: Settings, override: tuple[str, ...] | None) -> str:
    """Where `discover_accounts` takes the accounts from, for the report."""
    if override:
        return "event"
    if settings.account_source is AccountSource.ORGANIZATIONS:
        return "organizations"
    return "ssm" if settings.account_ids_parameter else "static"


def read_account_parameter(ssm: BaseClient, settings: Settings) -> tuple[str, ...]:
    """Account ids from an SSM String/StringList parameter (comma or whitespace separated)."""
    name = settings.account_ids_parameter
    try:
        value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except (ClientError, BotoCoreError) as error:
        raise DiscoveryError(f"SSM parameter {name} could not be read: {describe_error(error)}") from error
    ids = tuple(part for part in re.split(r"[,\s]+", value) if part)
    bad = [part for part in ids if not _ACCOUNT_ID.match(part)]
    if bad:
        raise DiscoveryError(
            f"SSM parameter {name}: {len(bad)} value(s) are not 12-digit account ids: {bad[:3]}"
        )
    if not ids:
        raise DiscoveryError(f"SSM parameter {name} holds no account ids")
    return ids


def _unique_accounts(account_ids: tuple[str, ...]) -> tuple[Account, ...]:
    return tuple(Account(account_id=account_id) for account_id in dict.fromkeys(account_ids))
