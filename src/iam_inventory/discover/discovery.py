"""What discovery hands the run: the accounts to scan and those deliberately skipped, or one clear error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from iam_inventory.core.errors import IamInventoryError
from iam_inventory.models import Account, AccountResult


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


def describe_error(error: BaseException) -> str:
    """An AWS error as "Code: message", for a DiscoveryError's one line."""
    if isinstance(error, ClientError):
        details: dict[str, Any] = error.response.get("Error", {})
        return f"{details.get('Code', 'ClientError')}: {details.get('Message', '')}"
    return f"{type(error).__name__}: {error}"
