"""The benchmark's estates: reproducible accounts with a realistic spread of users and keys."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Key and user dates are relative to one fixed moment so every run sees the same estate.
EPOCH = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class BenchKey:
    """One access key."""

    access_key_id: str
    active: bool
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class BenchUser:
    """One IAM user."""

    name: str
    user_id: str
    created_at: datetime
    console: bool
    mfa: bool
    keys: tuple[BenchKey, ...]
    # The other long-lived credentials (issue 17), set by user number so the keys above stay as they were.
    api_keys: int = 0  # never-expiring Bedrock API keys (ListServiceSpecificCredentials, AllUsers)
    codecommit: bool = False  # an inline policy allows codecommit:GitPull, so its SSH keys are listed
    ssh_keys: int = 0
    certificates: int = 0  # signing certificates, shown in the report's cert columns


@dataclass(frozen=True, slots=True)
class BenchAccount:
    """One spoke account."""

    account_id: str
    users: tuple[BenchUser, ...]
    root_key: bool

    @property
    def keys(self) -> int:
        """Number of access keys."""
        return sum(len(user.keys) for user in self.users)

    @property
    def users_with_keys(self) -> int:
        """Number of users holding at least one key."""
        return sum(1 for user in self.users if user.keys)

    @property
    def service_credentials(self) -> int:
        """Number of service-specific credentials (API keys)."""
        return sum(user.api_keys for user in self.users)

    @property
    def users_with_certificates(self) -> int:
        """Number of users the credential report shows with a signing certificate."""
        return sum(1 for user in self.users if user.certificates)

    @property
    def codecommit_users(self) -> int:
        """Number of users whose policies allow a codecommit: action (their SSH keys are listed)."""
        return sum(1 for user in self.users if user.codecommit)

    def call_budget(self) -> int:
        """Calls when the run generates the report, tags on (docs/collection.md, "Call budget")."""
        return (
            3
            + math.ceil(len(self.users) / 1000)
            + self.users_with_keys
            + max(1, math.ceil(self.service_credentials / 1000))
            + self.users_with_certificates
            + self.codecommit_users
        )


@dataclass(frozen=True, slots=True)
class Size:
    """An estate size: `accounts`, and either a fixed user count or the realistic spread."""

    accounts: int
    users_per_account: int | None = None

    @classmethod
    def parse(cls, text: str) -> Size:
        """'200' (spread of users) or '1000x100' (100 users in every account)."""
        accounts, _, users = text.lower().partition("x")
        return cls(int(accounts), int(users) if users else None)

    @property
    def label(self) -> str:
        """How the size is written on the command line."""
        return f"{self.accounts}x{self.users_per_account}" if self.users_per_account else str(self.accounts)


def account_id(index: int) -> str:
    """The 12-digit id of the index-th spoke."""
    return f"{100000000000 + index:012d}"


def _user_count(rng: random.Random) -> int:
    # Most accounts are small workload accounts; one in ten is a shared or legacy account with hundreds.
    roll = rng.random()
    if roll < 0.7:
        return rng.randint(5, 30)
    if roll < 0.9:
        return rng.randint(31, 100)
    return rng.randint(101, 400)


def build_account(index: int, users_per_account: int | None) -> BenchAccount:
    """One account, the same every time for the same index."""
    rng = random.Random(index)
    spoke = account_id(index)
    count = users_per_account if users_per_account is not None else _user_count(rng)
    if count > 999:
        raise ValueError("at most 999 users per account (key ids hold a 3-digit user number)")
    users = []
    for number in range(count):
        key_count = rng.choices((0, 1, 2), weights=(15, 75, 10))[0]
        keys = []
        for slot in range(key_count):
            created = EPOCH - timedelta(days=rng.randint(1, 500), seconds=rng.randint(0, 86_399))
            used = None if rng.random() < 0.1 else EPOCH - timedelta(days=rng.randint(0, 120))
            keys.append(
                BenchKey(
                    access_key_id=f"AKIA{spoke}{number:03d}{slot}",
                    active=rng.random() > 0.05,
                    created_at=created,
                    last_used_at=max(used, created) if used else None,
                )
            )
        console = rng.random() < 0.2
        users.append(
            BenchUser(
                name=f"user-{number:04d}",
                user_id=f"AIDA{spoke}{number:05d}",
                created_at=EPOCH - timedelta(days=600),
                console=console,
                mfa=console and rng.random() < 0.7,
                keys=tuple(sorted(keys, key=lambda key: key.created_at)),
                # One user in ten holds an API key, one in twenty uses CodeCommit with an SSH key (and one
                # in forty has an SSH key without CodeCommit: never listed), one in twenty-five a certificate.
                api_keys=int(number % 10 == 3),
                codecommit=number % 20 == 7,
                ssh_keys=int(number % 20 == 7 or number % 40 == 17),
                certificates=int(number % 25 == 11),
            )
        )
    return BenchAccount(spoke, tuple(users), root_key=rng.random() < 0.02)


def build_estate(size: Size) -> dict[str, BenchAccount]:
    """Every account of a size, by id."""
    accounts = (build_account(index, size.users_per_account) for index in range(size.accounts))
    return {account.account_id: account for account in accounts}
