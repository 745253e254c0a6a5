"""Single mode's scans handed to finalize while the run is still scanning, in discovery order.

Finalize used to start when the last account was stored, so writing every file was a serial tail after
the scan (0.5 ms of CPU per finding: 12 s at 25k findings). Fed as each account is stored, finalize
writes account N while later accounts are still being scanned, and only the accounts that finish last
and the run's closing parts (changes, pages, commit) are left when the scan ends.

A stored scan is also handed over in memory, within a budget, so finalize need not read back and
decode what the scan has just written (the store stays the record: resume and fan-out read it).

When that budget is full and finalize is not waiting for any account, finalize is behind: workers wait
before starting their next account (admit) until it catches up. Sixty-four scanning threads would
otherwise starve it of the GIL (each file write or SQLite step it makes gives the GIL up, and taking it
back can wait behind them all), and everything it had not written was left as a serial tail.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from iam_inventory.models import AccountResult
from iam_inventory.models.scan import AccountScan
from iam_inventory.pipeline.scan import Progress

# Users plus findings held for finalize at most (~3 KB each): scans that finish behind a slow account
# queue up to this, and the ones beyond it are read back from the store.
KEPT_BUDGET = 4_000


def scan_weight(scan: AccountScan) -> int:
    """What holding the scan costs against the budget: its users and findings, and the account."""
    inventory = scan.result.inventory
    return 1 + len(scan.findings) + (len(inventory.users) if inventory is not None else 0)


class ScanFeed:
    """Which accounts of the run are finished (stored, or unfinished for good), for readers to wait on."""

    def __init__(self, pending: Iterable[str], kept_budget: int = KEPT_BUDGET) -> None:
        self._pending = set(pending)
        # An event per account a reader waits on, so a finished account wakes its own reader only.
        self._waiters: dict[str, threading.Event] = {}
        self._unfinished: dict[str, AccountResult] = {}
        self._error: BaseException | None = None
        self._kept: dict[str, AccountScan] = {}
        self._kept_weight, self._kept_budget = 0, kept_budget
        # A scan found no room, and half the budget is not free again yet: finalize is behind.
        self._full = False
        self._reading = True  # False once finalize stopped reading (done, or failed): nobody gates
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)

    def progress(self, then: Progress | None) -> Progress:
        """The scan's on_done hook: mark the account finished (it is stored by now), then call `then`."""

        def done(result: AccountResult, finished: int, total: int) -> None:
            self._finish(result.account.account_id)
            if then is not None:
                then(result, finished, total)

        return done

    def keep(self, scan: AccountScan) -> None:
        """Hold a scan just stored for finalize, within the budget (beyond it, finalize reads the store)."""
        weight = scan_weight(scan)
        with self._lock:
            if self._kept_weight + weight <= self._kept_budget:
                self._kept[scan.result.account.account_id] = scan
                self._kept_weight += weight
            elif weight <= self._kept_budget:
                self._full = True  # no room for it: finalize is behind (a scan larger than it all is not)

    def take(self, account_id: str) -> AccountScan | None:
        """The scan held for the account, once (None: read it from the store)."""
        with self._lock:
            scan = self._kept.pop(account_id, None)
            if scan is not None:
                self._kept_weight -= scan_weight(scan)
                # Workers start again once half the budget is free, not at every scan taken.
                if self._full and self._kept_weight <= self._kept_budget // 2:
                    self._full = False
                    self._room.notify_all()
        return scan

    def admit(self) -> None:
        """Called by a worker before it starts an account: wait while finalize is behind (see above).

        Never while finalize waits for an account: that one may be the next to start.
        """
        with self._room:
            while self._behind():
                self._room.wait()

    def behind(self) -> bool:
        """True while admit() holds workers back: the budget is full, and finalize waits for no account."""
        with self._lock:
            return self._behind()

    def _behind(self) -> bool:
        return self._full and self._reading and not self._waiters and self._error is None

    def stop_reading(self) -> None:
        """Finalize read every account, or failed: no worker waits for it any more."""
        with self._room:
            self._reading = False
            self._room.notify_all()

    def close(self, unfinished: dict[str, AccountResult]) -> None:
        """The scan phase is over: every account still pending ends as it says (not scanned)."""
        with self._lock:
            self._unfinished.update(unfinished)
            self._pending.clear()
        self._release_all()

    def fail(self, error: BaseException) -> None:
        """The scan phase raised: every reader still waiting raises it too, and nothing is published."""
        with self._lock:
            self._error = error
        self._release_all()

    def wait(self, account_id: str) -> AccountResult | None:
        """Block until the account is finished; its unfinished result, or None when it is stored."""
        with self._lock:
            waiting = account_id in self._pending and self._error is None
            event = self._waiters.setdefault(account_id, threading.Event()) if waiting else None
            if waiting:
                self._room.notify_all()  # finalize waits: admit no longer holds workers back
        if event is not None:
            event.wait()
        with self._lock:
            if self._error is not None and account_id in self._pending:
                raise self._error
            return self._unfinished.get(account_id)

    def _finish(self, account_id: str) -> None:
        with self._lock:
            self._pending.discard(account_id)
            event = self._waiters.pop(account_id, None)
        if event is not None:
            event.set()

    def _release_all(self) -> None:
        with self._lock:
            events = list(self._waiters.values())
            self._waiters.clear()
        for event in events:
            event.set()


def in_background(work: Callable[[], dict[str, AccountResult]], feed: ScanFeed) -> threading.Thread:
    """Run the scan phase on a thread of its own, closing (or failing) the feed when it ends."""

    def run() -> None:
        try:
            feed.close(work())
        except BaseException as error:
            feed.fail(error)

    thread = threading.Thread(target=run, name="scan-phase", daemon=True)
    thread.start()
    return thread
