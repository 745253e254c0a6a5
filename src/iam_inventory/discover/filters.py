"""Which discovered organization accounts are scanned: the exclusions, tag filters, hub and state rules."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from botocore.client import BaseClient

from iam_inventory.config.filters import AccountFilters
from iam_inventory.core.text import pick_tags
from iam_inventory.discover.discovery import Discovery
from iam_inventory.models import Account, AccountResult, AccountStatus

# Why an account was deliberately not scanned: the `error_code` of a `skipped` account.
SKIP_EXCLUDED_ACCOUNT = "ExcludedAccount"
SKIP_EXCLUDED_OU = "ExcludedOU"
SKIP_EXCLUDED_BY_TAG = "ExcludedByTag"
SKIP_NOT_INCLUDED_BY_TAG = "NotIncludedByTag"
SKIP_HUB_ACCOUNT = "HubAccount"
SKIP_NOT_ACTIVE = "AccountNotActive"


@dataclass(frozen=True, slots=True)
class OrganizationAccount:
    """One account as the Organizations walk found it, before filters."""

    account: Account
    state: str
    ou_ids: tuple[str, ...]  # the root, then each OU down to the account's parent


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
