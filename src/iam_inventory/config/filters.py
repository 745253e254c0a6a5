"""Which discovered Organizations accounts are in scope: plain data from the settings to discovery."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AccountFilters:
    """Which discovered Organizations accounts are in scope; tags are (key, value) pairs."""

    include_ous: tuple[str, ...] = ()
    exclude_ous: frozenset[str] = frozenset()
    exclude_accounts: frozenset[str] = frozenset()
    include_tags: frozenset[tuple[str, str]] = frozenset()
    exclude_tags: frozenset[tuple[str, str]] = frozenset()
    scan_hub_account: bool = False


def split_tag(tag: str) -> tuple[str, str]:
    """A key=value account tag filter as (key, value), spaces trimmed."""
    key, _, value = tag.partition("=")
    return key.strip(), value.strip()
