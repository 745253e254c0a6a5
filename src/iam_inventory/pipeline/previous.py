"""The baseline run's scan of one account, read when that account is scanned: the key ids it reuses.

A steady-state run (it generated each account's credential report) skips ListAccessKeys for a user
whose report slots show exactly the keys the previous run listed (collect.keys.reuse_previous_keys).
The previous run is the baseline latest.json names, and its scans stay in its run folder
(pipeline/scan_store.py); each account's scan is read and decoded on its own, so the run never holds the
estate. A first run, a damaged pointer, a missing or unreadable scan: nothing is reused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from iam_inventory.collect.keys import PreviousUsers, previous_users
from iam_inventory.compare.state import DAMAGED_STATE, read_latest
from iam_inventory.core.observability import logger
from iam_inventory.models import AccountStatus
from iam_inventory.models.codec import decode_view
from iam_inventory.models.scan import AccountScan
from iam_inventory.pipeline.scan_store import ACCOUNTS
from iam_inventory.publish.storage.run_stores import RunStore

# account id -> the previous scan's users (None: nothing to reuse).
PreviousScans = Callable[[str], PreviousUsers | None]


# The fields of a stored AccountScan that key reuse reads (models/codec.decode_view): a user's keys are
# validated, its findings and the rest of the inventory only parsed, a third of a whole decode's CPU.
@dataclass(frozen=True, slots=True)
class _Key:
    access_key_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class _User:
    user_name: str
    user_id: str
    access_keys: tuple[_Key, ...] = ()


@dataclass(frozen=True, slots=True)
class _Inventory:
    account_id: str
    users: tuple[_User, ...]


@dataclass(frozen=True, slots=True)
class _Result:
    status: AccountStatus
    inventory: _Inventory | None = None


@dataclass(frozen=True, slots=True)
class _PreviousScan:
    result: _Result
    schema_version: str


def no_previous_scans(_account_id: str) -> PreviousUsers | None:
    """No previous run (a first run, a dry run without outputs)."""
    return None


def previous_scans(store: RunStore, run_id: str) -> PreviousScans:
    """A reader of the baseline run's stored scans, one account at a time.

    latest.json is read at the first account asked for (only accounts whose report this run generated
    are), once per process: a run on cached reports, or a fan-out worker on one, reads nothing more.
    """
    lock = threading.Lock()
    baseline: list[str | None] = []  # [the baseline's folder, or None] once latest.json was read

    def folder() -> str | None:
        with lock:
            if not baseline:
                baseline.append(_baseline_folder(store, run_id))
            return baseline[0]

    def read(account_id: str) -> PreviousUsers | None:
        previous = folder()
        if previous is None:
            return None
        try:
            stream = store.open(f"{previous}/{ACCOUNTS}/{account_id}.json.gz")
            if stream is None:
                return None
            with stream:
                scan = decode_view(AccountScan, _PreviousScan, stream.read())
        except Exception as error:  # any doubt about the previous scan: list the keys, as a first run
            logger.info(
                "previous scan unreadable: keys are listed",
                extra={"account_id": account_id, "error": type(error).__name__},
            )
            return None
        inventory = scan.result.inventory
        if scan.result.status is not AccountStatus.SCANNED or inventory is None:
            return None
        if inventory.account_id != account_id:
            return None
        return previous_users(inventory.users)

    return read


def _baseline_folder(store: RunStore, run_id: str) -> str | None:
    """The folder of the run latest.json names; None for none, a damaged pointer, or this run itself."""
    try:
        latest = read_latest(store)
    except DAMAGED_STATE as error:
        logger.warning("latest.json unreadable: every key is listed", extra={"error": type(error).__name__})
        return None
    # A retry of the baseline run itself would read its own scans: the same data, so no gain; listed.
    if latest is None or latest.get("run_id") == run_id:
        return None
    return str(latest["folder"])
