"""Who owns a finding: the user's owner tag, the account's owner tag, the OU-to-owner map, else `unowned`."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

UNOWNED = "unowned"
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._@+-]")


class OwnerSource(StrEnum):
    """Where a finding's owner came from (the `owner_source` column)."""

    USER_TAG = "user_tag"
    ACCOUNT_TAG = "account_tag"
    OU_MAP = "ou_map"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class OwnerConfig:
    """Owner resolution settings: tag keys tried in order, and OU path prefixes to owners."""

    tag_keys: tuple[str, ...] = ("owner",)
    ou_owners: Mapping[str, str] = field(default_factory=dict, hash=False)


def resolve_owner(
    user_tags: Mapping[str, str] | None,
    account_tags: Mapping[str, str] | None,
    ou_path: str,
    config: OwnerConfig,
) -> tuple[str, OwnerSource]:
    """(owner, owner_source) for one finding; root findings pass no user tags."""
    owner = _tag_value(user_tags or {}, config.tag_keys)
    if owner:
        return owner, OwnerSource.USER_TAG
    owner = _tag_value(account_tags or {}, config.tag_keys)
    if owner:
        return owner, OwnerSource.ACCOUNT_TAG
    owner = ou_owner(ou_path, config.ou_owners)
    if owner:
        return owner, OwnerSource.OU_MAP
    return UNOWNED, OwnerSource.NONE


def ou_owner(ou_path: str, ou_owners: Mapping[str, str]) -> str | None:
    """The owner of the longest OU path prefix (whole segments) that contains `ou_path`."""
    best: tuple[int, str] | None = None
    for prefix, owner in ou_owners.items():
        depth = len(_segments(prefix))
        if ou_within(ou_path, prefix) and (best is None or depth > best[0]):
            best = (depth, owner)
    return best[1] if best else None


def ou_within(path: str, prefix: str) -> bool:
    """True when the OU path is `prefix` or below it, by whole segments ("Root/Prod" is not in "Root/P")."""
    wanted = _segments(prefix)
    return bool(wanted) and _segments(path)[: len(wanted)] == wanted


def owner_file_stem(owner: str) -> str:
    """A file name for `owners/<owner>.csv`: owners come from tags, so never a path, never hidden."""
    stem = _UNSAFE_IN_FILE_NAME.sub("_", owner).lstrip(".")[:80] or "_"
    if stem != owner:
        # Two owners that clean to the same name (team/a, team:a) must not share a file.
        stem += "-" + hashlib.sha256(owner.encode()).hexdigest()[:8]
    return stem


def _tag_value(tags: Mapping[str, str], keys: tuple[str, ...]) -> str | None:
    # IAM and Organizations tag keys are case-sensitive, but people write both "owner" and "Owner":
    # an exact key wins, then a case-insensitive one.
    folded = {key.casefold(): value for key, value in tags.items()}
    for key in keys:
        value = tags.get(key)
        if value is None:
            value = folded.get(key.casefold())
        if value and value.strip():
            return value.strip()
    return None


def _segments(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.split("/") if part)
