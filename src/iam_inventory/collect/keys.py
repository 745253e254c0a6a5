"""Pair a user's live keys (ListAccessKeys) with the report's key slots, exactly or not at all.

The report names no key ids: its slots carry each key's creation time ("last_rotated") to the second,
and AWS documents no slot order. A slot is therefore matched to a key only when exactly one listed key
has exactly that creation second and that key fits no other slot. Two keys created in the same second,
a key created after the report, or any other doubt: that key's last use is read with
GetAccessKeyLastUsed instead, because handing one key another key's last use would name an in-use
key as "never used", which is the key a security team would deactivate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from iam_inventory.collect.report import ReportKey
from iam_inventory.models import AccessKey, KeyLastUse


def whole_second(moment: datetime) -> datetime:
    """`moment` in UTC without its fraction: IAM and the report both date keys to the second."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(microsecond=0)


def exact_slots(metadata: Sequence[dict[str, Any]], slots: Sequence[ReportKey]) -> dict[str, ReportKey]:
    """Key id -> its report slot, for keys whose creation second identifies one slot and one key only."""
    matched: dict[str, ReportKey] = {}
    for slot in slots:
        second = whole_second(slot.created_at)
        keys = [item for item in metadata if whole_second(item["CreateDate"]) == second]
        twins = [other for other in slots if whole_second(other.created_at) == second]
        if len(keys) == 1 and len(twins) == 1:
            matched[keys[0]["AccessKeyId"]] = slot
    return matched


def match_keys(
    metadata: Sequence[dict[str, Any]],
    slots: Sequence[ReportKey],
    last_use_of: Callable[[str], KeyLastUse | None],
) -> tuple[AccessKey, ...]:
    """The listed keys with their last use: from an exactly matched slot, else asked of the API.

    `last_use_of` returns None when the key no longer exists (deleted since it was listed): dropped.
    """
    matched = exact_slots(metadata, slots)
    keys = []
    for item in sorted(metadata, key=lambda entry: entry["CreateDate"]):
        key_id = item["AccessKeyId"]
        slot = matched.get(key_id)
        if slot is None:
            last_use = last_use_of(key_id)
            if last_use is None:
                continue
        else:
            last_use = KeyLastUse(used_at=slot.last_used_at, service=slot.service, region=slot.region)
        keys.append(
            AccessKey(
                access_key_id=key_id,
                # ListAccessKeys is current; the report may be hours old.
                status=item["Status"],
                created_at=item["CreateDate"],
                last_use=last_use,
                last_use_from_report=slot is not None,
            )
        )
    return tuple(keys)
