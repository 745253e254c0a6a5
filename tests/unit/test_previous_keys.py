"""Steady-state key reuse (collect.keys.reuse_previous_keys): key ids from the previous scan, or None."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from iam_inventory.collect.credential_report import ReportKey
from iam_inventory.collect.keys import PreviousUser, previous_users, reuse_previous_keys
from iam_inventory.models import AccessKey, KeyLastUse
from tests.builders import NOW, make_key, make_user

CREATED_1 = datetime(2026, 1, 5, 10, 0, 7, 250000, tzinfo=UTC)
CREATED_2 = datetime(2026, 6, 1, 8, 30, 0, tzinfo=UTC)
USED = NOW - timedelta(days=2)


def slot(number: int, created: datetime, active: bool = True, used: datetime | None = USED) -> ReportKey:
    return ReportKey(
        number, active, created.replace(microsecond=0), used, "s3" if used else None, "eu-west-1"
    )


PREVIOUS = PreviousUser("AIDAAPP", (("AKIAONE", CREATED_1), ("AKIATWO", CREATED_2)))


def test_the_same_keys_take_their_ids_from_the_previous_scan_and_the_rest_from_the_report():
    # Given the same user, and a report whose slots name the previous keys' seconds (in another order)
    slots = (slot(2, CREATED_2, active=False, used=None), slot(1, CREATED_1))

    # When its keys are reused
    keys = reuse_previous_keys("AIDAAPP", slots, PREVIOUS)

    # Then the ids and exact creation come from the previous scan, status and last use from the report,
    # in creation order
    assert keys == (
        AccessKey(
            "AKIAONE", "Active", CREATED_1, KeyLastUse(USED, "s3", "eu-west-1"), last_use_from_report=True
        ),
        AccessKey(
            "AKIATWO", "Inactive", CREATED_2, KeyLastUse(None, None, "eu-west-1"), last_use_from_report=True
        ),
    )


@pytest.mark.parametrize(
    ("user_id", "slots", "previous"),
    [
        ("AIDAAPP", (slot(1, CREATED_1), slot(2, CREATED_2)), None),
        ("AIDANEW", (slot(1, CREATED_1), slot(2, CREATED_2)), PREVIOUS),
        ("AIDAAPP", (slot(1, CREATED_1),), PREVIOUS),
        ("AIDAAPP", (slot(1, CREATED_1), slot(2, CREATED_2 + timedelta(seconds=1))), PREVIOUS),
        ("AIDAAPP", (slot(1, CREATED_1), slot(2, CREATED_1)), PREVIOUS),
        (
            "AIDAAPP",
            (slot(1, CREATED_1), slot(2, CREATED_2)),
            PreviousUser("AIDAAPP", (("AKIAONE", CREATED_1), ("AKIATWO", CREATED_1), ("AKIA3", CREATED_2))),
        ),
        (
            "AIDAAPP",
            (slot(1, CREATED_1),),
            PreviousUser("AIDAAPP", (("AKIAONE", CREATED_1), ("AKIAX", CREATED_1))),
        ),
        (
            "AIDAAPP",
            (slot(1, CREATED_1), slot(2, CREATED_2)),
            PreviousUser("AIDAAPP", (("AKIAONE", CREATED_1),)),
        ),
        ("AIDAAPP", (), PREVIOUS),
    ],
    ids=[
        "no previous scan",
        "user recreated (new UserId)",
        "a key deleted",
        "a key rotated",
        "two slots in one second",
        "two previous keys in one second",
        "two previous keys in one second, one slot",
        "a key created",
        "no keys now",
    ],
)
def test_any_difference_or_doubt_means_listing(user_id, slots, previous):
    # When keys are asked of a report that does not show exactly the previous keys, one per second
    # Then nothing is reused: ListAccessKeys decides
    assert reuse_previous_keys(user_id, slots, previous) is None


def test_a_user_without_keys_before_and_now_reuses_the_empty_set():
    # Given a user with no keys in the previous scan and no slot in the report
    # Then it has no keys, without a listing
    assert reuse_previous_keys("AIDAAPP", (), PreviousUser("AIDAAPP", ())) == ()


def test_previous_users_name_each_user_id_and_its_keys():
    # Given a previous scan's users
    one, two = make_key("AKIAONE", age=30), make_key("AKIATWO", age=3)
    users = [make_user("app", keys=(one, two)), make_user("reader")]

    # Then each user's id and (key id, creation) pairs are kept by name
    assert previous_users(users) == {
        "app": PreviousUser(users[0].user_id, (("AKIAONE", one.created_at), ("AKIATWO", two.created_at))),
        "reader": PreviousUser(users[1].user_id, ()),
    }
