"""Builders of hand-made inventories for unit tests (no AWS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from iam_inventory.models import AccessKey, AccountInventory, IamUser, KeyLastUse

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def days_ago(days: float, now: datetime = NOW) -> datetime:
    """A moment `days` days (plus an hour, so whole-day counts are exact) before `now`."""
    return now - timedelta(days=days, hours=1)


def make_key(
    key_id: str = "AKIAEXAMPLE000000001",
    age: int = 10,
    used: int | None = 1,
    active: bool = True,
    now: datetime = NOW,
) -> AccessKey:
    """A key `age` days old, last used `used` days ago (None: never), counted back from `now`."""
    return AccessKey(
        access_key_id=key_id,
        status="Active" if active else "Inactive",
        created_at=days_ago(age, now),
        last_use=KeyLastUse(
            used_at=None if used is None else days_ago(used, now), service="s3", region="us-east-1"
        ),
    )


def make_user(
    name: str = "alice",
    keys: tuple[AccessKey, ...] = (),
    console: bool = False,
    mfa: bool = False,
    password_used: float | None = 1,
) -> IamUser:
    """A 500-day-old user; a console user last signed in `password_used` days ago (None: never)."""
    return IamUser(
        user_name=name,
        user_id=f"AIDA{name.upper():0<17}"[:21],
        arn=f"arn:aws:iam::111111111111:user/{name}",
        path="/",
        created_at=days_ago(500),
        console_access=console,
        password_last_used=days_ago(password_used) if console and password_used is not None else None,
        mfa_enabled=mfa,
        access_keys=keys,
    )


def make_inventory(
    *users: IamUser, root_keys: bool = False, account_id: str = "111111111111", root_mfa: bool = True
) -> AccountInventory:
    return AccountInventory(
        account_id=account_id,
        users=tuple(users),
        root_access_keys_present=root_keys,
        root_mfa_enabled=root_mfa,
        collected_at=NOW,
    )
