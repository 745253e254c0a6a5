"""Discover the accounts to inventory: a static list (event, env or SSM) or AWS Organizations."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from iam_inventory.assume.clients import ClientFactory, assume_spoke_role
from iam_inventory.config.filters import AccountFilters
from iam_inventory.config.settings import AccountSource, Settings
from iam_inventory.config.validation import ACCOUNT_ID_PATTERN
from iam_inventory.core.errors import IamInventoryError
from iam_inventory.core.observability import logger
from iam_inventory.core.text import pick_tags
from iam_inventory.models import Account, AccountResult, AccountStatus

_ACCOUNT_ID = re.compile(ACCOUNT_ID_PATTERN)

# Why an account was deliberately not scanned: the `error_code` of a `skipped` account.
SKIP_EXCLUDED_ACCOUNT = "ExcludedAccount"
SKIP_EXCLUDED_OU = "ExcludedOU"
SKIP_EXCLUDED_BY_TAG = "ExcludedByTag"
SKIP_NOT_INCLUDED_BY_TAG = "NotIncludedByTag"
SKIP_HUB_ACCOUNT = "HubAccount"
SKIP_NOT_ACTIVE = "AccountNotActive"


class DiscoveryError(IamInventoryError, RuntimeError):
    """The account list could not be built; the run must fail loudly rather than scan nothing."""


@dataclass(frozen=True, slots=True)
class Discovery:
    """Accounts to scan, and accounts deliberately not scanned (with the reason)."""

    to_scan: tuple[Account, ...]
    skipped: tuple[AccountResult, ...] = ()

    def __post_init__(self) -> None:
        ids = [account.account_id for account in self.to_scan] + [
            result.account.account_id for result in self.skipped
        ]
        if len(ids) != len(set(ids)):
            raise DiscoveryError("discovery produced an account more than once")


@dataclass(frozen=True, slots=True)
class OrganizationAccount:
    """One account as the Organizations walk found it, before filters."""

    account: Account
    state: str
    ou_ids: tuple[str, ...]  # the root, then each OU down to the account's parent


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
        raise DiscoveryError(f"SSM parameter {name} could not be read: {_describe(error)}") from error
    ids = tuple(part for part in re.split(r"[,\s]+", value) if part)
    bad = [part for part in ids if not _ACCOUNT_ID.match(part)]
    if bad:
        raise DiscoveryError(
            f"SSM parameter {name}: {len(bad)} value(s) are not 12-digit account ids: {bad[:3]}"
        )
    if not ids:
        raise DiscoveryError(f"SSM parameter {name} holds no account ids")
    return ids


def discover_from_organizations(settings: Settings, factory: ClientFactory, run_id: str) -> Discovery:
    """Walk the organization (as the hub, or as the organization reader role) and apply the filters."""
    try:
        sts = factory.hub_client("sts")
        hub_account_id = sts.get_caller_identity()["Account"]
        if settings.organization_reader_role_arn:
            # Organizations answers these list calls only in the management account or a delegated admin.
            credentials = assume_spoke_role(sts, settings.organization_reader_role_arn, run_id, None)
            organizations = factory.spoke_client("organizations", credentials)
        else:
            organizations = factory.hub_client("organizations")
        found = list(walk_organization(organizations, settings.include_ous))
        discovery = apply_filters(
            found, settings.account_filters, hub_account_id, organizations, settings.owner_tag_keys
        )
    except (ClientError, BotoCoreError) as error:
        raise DiscoveryError(f"AWS Organizations discovery failed: {_describe(error)}") from error
    skipped_by_reason = Counter(result.error_code for result in discovery.skipped)
    logger.info(
        "organization accounts discovered",
        extra={"to_scan": len(discovery.to_scan), "skipped_by_reason": dict(skipped_by_reason)},
    )
    if not discovery.to_scan:
        raise DiscoveryError(
            f"AWS Organizations discovery left no account to scan ({len(discovery.skipped)} skipped): "
            "check INCLUDE_OUS, EXCLUDE_OUS, EXCLUDE_ACCOUNTS and the tag filters"
        )
    return discovery


def walk_organization(
    organizations: BaseClient, include_ous: tuple[str, ...]
) -> Iterator[OrganizationAccount]:
    """Every account under the given OUs (nested OUs included), or under the root when none are given."""
    roots = [root for page in organizations.get_paginator("list_roots").paginate() for root in page["Roots"]]
    root_names = {root["Id"]: root.get("Name", "Root") for root in roots}
    if include_ous:
        starts = [_locate(organizations, ou_id, root_names) for ou_id in include_ous]
    else:
        starts = [((root_id,), (name,)) for root_id, name in root_names.items()]
    visited: set[str] = set()
    seen_accounts: set[str] = set()
    stack = list(reversed(starts))
    while stack:
        ou_ids, names = stack.pop()
        parent_id = ou_ids[-1]
        if parent_id in visited:  # an included OU nested inside another included OU
            continue
        visited.add(parent_id)
        for page in organizations.get_paginator("list_accounts_for_parent").paginate(ParentId=parent_id):
            for raw in page["Accounts"]:
                if raw["Id"] in seen_accounts:
                    continue
                seen_accounts.add(raw["Id"])
                yield OrganizationAccount(
                    account=Account(account_id=raw["Id"], name=raw.get("Name", ""), ou_path="/".join(names)),
                    # `State` replaces the deprecated `Status` (which lacks e.g. PENDING_ACTIVATION).
                    state=raw.get("State") or raw.get("Status") or "ACTIVE",
                    ou_ids=ou_ids,
                )
        children = [
            child
            for page in organizations.get_paginator("list_organizational_units_for_parent").paginate(
                ParentId=parent_id
            )
            for child in page["OrganizationalUnits"]
        ]
        stack.extend(
            ((*ou_ids, child["Id"]), (*names, child.get("Name", child["Id"]))) for child in reversed(children)
        )


def apply_filters(
    found: list[OrganizationAccount],
    filters: AccountFilters,
    hub_account_id: str,
    organizations: BaseClient,
    owner_tag_keys: tuple[str, ...] = (),
) -> Discovery:
    """Split the walked accounts into those to scan and those skipped; scanned ones keep their owner tags."""
    to_scan: list[Account] = []
    skipped: list[AccountResult] = []
    for item in found:
        tags: list[tuple[str, str]] | None = None
        if filters.include_tags or filters.exclude_tags:
            # One call per account, made only when a tag filter needs it (and then read once).
            tags = list(list_account_tags(organizations, item.account.account_id))
        reason = skip_reason(item, filters, hub_account_id, organizations, tags)
        if reason is None:
            if tags is None and owner_tag_keys:
                # Owner tags matter only for the accounts that are scanned.
                tags = list(list_account_tags(organizations, item.account.account_id))
            kept = pick_tags(({"Key": key, "Value": value} for key, value in tags or ()), owner_tag_keys)
            to_scan.append(replace(item.account, tags=kept) if kept else item.account)
        else:
            code, message = reason
            skipped.append(
                AccountResult(
                    account=item.account, status=AccountStatus.SKIPPED, error_code=code, error_message=message
                )
            )
    return Discovery(to_scan=tuple(to_scan), skipped=tuple(skipped))


def skip_reason(
    item: OrganizationAccount,
    filters: AccountFilters,
    hub_account_id: str,
    organizations: BaseClient,
    account_tags: list[tuple[str, str]] | None = None,
) -> tuple[str, str] | None:
    """Why this account is not scanned (code, message), or None to scan it; explicit exclusions win."""
    account_id = item.account.account_id
    if account_id in filters.exclude_accounts:
        return SKIP_EXCLUDED_ACCOUNT, "account is listed in EXCLUDE_ACCOUNTS"
    excluded_ou = next((ou_id for ou_id in item.ou_ids if ou_id in filters.exclude_ous), None)
    if excluded_ou is not None:
        return SKIP_EXCLUDED_OU, f"account is under {excluded_ou}, listed in EXCLUDE_OUS"
    if filters.include_tags or filters.exclude_tags:
        # Only fetched when a tag filter is set: it is one call per account.
        tags = set(list_account_tags(organizations, account_id) if account_tags is None else account_tags)
        matched = sorted(tags & filters.exclude_tags)
        if matched:
            return (
                SKIP_EXCLUDED_BY_TAG,
                f"account tag {matched[0][0]}={matched[0][1]} is in EXCLUDE_ACCOUNT_TAGS",
            )
        if filters.include_tags and not tags & filters.include_tags:
            return SKIP_NOT_INCLUDED_BY_TAG, "account has none of the tags in INCLUDE_ACCOUNT_TAGS"
    if account_id == hub_account_id and not filters.scan_hub_account:
        return SKIP_HUB_ACCOUNT, "the hub account is scanned only with SCAN_HUB_ACCOUNT=true"
    if item.state != "ACTIVE":
        return SKIP_NOT_ACTIVE, f"account state is {item.state}"
    return None


def list_account_tags(organizations: BaseClient, account_id: str) -> Iterator[tuple[str, str]]:
    """The account's tags as (key, value) pairs."""
    for page in organizations.get_paginator("list_tags_for_resource").paginate(ResourceId=account_id):
        for tag in page["Tags"]:
            yield tag["Key"], tag["Value"]


def _locate(
    organizations: BaseClient, ou_id: str, root_names: dict[str, str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(ids, names) from the root down to `ou_id`, so OU paths read the same whatever the start."""
    ids: list[str] = [ou_id]
    names: list[str] = []
    current = ou_id
    while current not in root_names:
        names.append(_ou_name(organizations, current))
        parents = organizations.list_parents(ChildId=current)["Parents"]
        if not parents:
            raise DiscoveryError(f"OU {ou_id} has no parent: it is not part of this organization")
        current = parents[0]["Id"]
        ids.append(current)
    names.append(root_names[current])
    return tuple(reversed(ids)), tuple(reversed(names))


def _ou_name(organizations: BaseClient, ou_id: str) -> str:
    return str(
        organizations.describe_organizational_unit(OrganizationalUnitId=ou_id)["OrganizationalUnit"]["Name"]
    )


def _describe(error: BaseException) -> str:
    if isinstance(error, ClientError):
        details: dict[str, Any] = error.response.get("Error", {})
        return f"{details.get('Code', 'ClientError')}: {details.get('Message', '')}"
    return f"{type(error).__name__}: {error}"


def _unique_accounts(account_ids: tuple[str, ...]) -> tuple[Account, ...]:
    return tuple(Account(account_id=account_id) for account_id in dict.fromkeys(account_ids))
