"""Pair a user's live keys (ListAccessKeys) with the report's key slots, exactly or not at all.

The report names no key ids: its slots carry each key's creation time ("last_rotated") to the second,
and AWS documents no slot order. A slot is therefore matched to a key only when exactly one listed key
has exactly that creation second and that key fits no other slot. Two keys created in the same second,
a key created after the report, or any other doubt: that key's last use is read with
GetAccessKeyLastUsed instead, because handing one key another key's last use would name an in-use
key as "never used", which is the key a security team would deactivate.

On a steady-state run (the run generated the report) the previous run's scan supplies the key ids
where the report shows the very same keys (reuse_previous_keys), and ListAccessKeys is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from iam_inventory.collect.credential_report import ReportKey
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


@dataclass(frozen=True, slots=True)
class PreviousUser:
    """A user as the previous run's scan of the account saw it: its id and its keys (id, creation)."""

    user_id: str
    keys: tuple[tuple[str, datetime], ...]


# user name -> what the previous run's scan of this account listed for that user.
PreviousUsers = Mapping[str, PreviousUser]


class _KeyFacts(Protocol):
    @property
    def access_key_id(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...


class _UserFacts(Protocol):
    """What key reuse reads of a user: an IamUser, or the slim view pipeline/previous.py decodes."""

    @property
    def user_name(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def access_keys(self) -> Sequence[_KeyFacts]: ...


def previous_users(users: Iterable[_UserFacts]) -> dict[str, PreviousUser]:
    """The key ids of each user of a previous scan, by user name."""
    return {
        user.user_name: PreviousUser(
            user.user_id, tuple((key.access_key_id, key.created_at) for key in user.access_keys)
        )
        for user in users
    }


def reuse_previous_keys(
    user_id: str, slots: Sequence[ReportKey], previous: PreviousUser | None
) -> tuple[AccessKey, ...] | None:
    """The user's keys from the previous scan and this run's report, or None when anything is in doubt.

    Only for a report this run generated. A key id never changes and IAM dates keys to the second, so
    when the user is the same user (UserId: a user deleted and recreated under its name gets a new one)
    and the report's slots name exactly the creation seconds of the previous scan's keys, one key per
    second, these are the same keys: status and last use come from the new report. A rotated, deleted
    or created key, two keys in one second, or no previous scan: None, and ListAccessKeys decides.
    """
    if previous is None or previous.user_id != user_id:
        return None
    by_second = {whole_second(slot.created_at): slot for slot in slots}
    known = {whole_second(created): (key_id, created) for key_id, created in previous.keys}
    if len(by_second) != len(slots) or len(known) != len(previous.keys) or by_second.keys() != known.keys():
        return None
    keys = []
    for second in sorted(by_second):
        slot, (key_id, created) = by_second[second], known[second]
        keys.append(
            AccessKey(
                access_key_id=key_id,
                status="Active" if slot.active else "Inactive",
                created_at=created,
                last_use=KeyLastUse(used_at=slot.last_used_at, service=slot.service, region=slot.region),
                last_use_from_report=True,
            )
        )
    return tuple(keys)
