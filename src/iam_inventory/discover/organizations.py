"""Accounts from AWS Organizations: walk the OUs (as the hub or the organization reader role), then filter."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from iam_inventory.assume.clients import ClientFactory, assume_spoke_role
from iam_inventory.config.settings import Settings
from iam_inventory.core.observability import logger
from iam_inventory.discover.discovery import Discovery, DiscoveryError, describe_error
from iam_inventory.discover.filters import OrganizationAccount, apply_filters
from iam_inventory.models import Account


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
        raise DiscoveryError(f"AWS Organizations discovery failed: {describe_error(error)}") from error
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
