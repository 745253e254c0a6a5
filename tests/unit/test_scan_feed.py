"""Finalize reads each account as soon as the scan phase has stored it, and never before."""

from __future__ import annotations

import threading

import pytest

from iam_inventory.models import Account, AccountResult, AccountStatus
from iam_inventory.models.scan import AccountScan
from iam_inventory.pipeline.scan_feed import ScanFeed, in_background
from tests.builders import make_inventory, make_user

ALPHA, BETA = Account("111111111111", "alpha"), Account("222222222222", "beta")
# A safety net for a broken feed, never a wait the test relies on: each step is signalled.
STUCK = 10


def reader(feed: ScanFeed, account_id: str) -> tuple[threading.Thread, list[object]]:
    """A thread waiting on one account, as finalize's read-ahead does; what it got lands in the list."""
    got: list[object] = []

    def run() -> None:
        try:
            got.append(feed.wait(account_id))
        except Exception as error:
            got.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, got


def stored(account: Account) -> AccountResult:
    return AccountResult(account, AccountStatus.SCANNED)


def test_a_reader_waits_until_its_account_is_stored():
    # Given two accounts being scanned, and a reader waiting on beta
    feed = ScanFeed([ALPHA.account_id, BETA.account_id])
    thread, got = reader(feed, BETA.account_id)
    done = feed.progress(None)
    # When alpha finishes, beta's reader still waits
    done(stored(ALPHA), 1, 2)
    thread.join(timeout=0.05)
    assert thread.is_alive()
    assert got == []
    # Then beta finishing releases it, with nothing unfinished to report (the scan is in the store)
    done(stored(BETA), 2, 2)
    thread.join(timeout=STUCK)
    assert got == [None]


def test_an_account_not_pending_is_read_at_once_and_progress_is_passed_on():
    # Given a resumed run whose alpha was stored by an earlier invocation
    calls: list[tuple[str, int, int]] = []
    feed = ScanFeed([BETA.account_id])
    # When finalize asks for alpha, it does not wait
    assert feed.wait(ALPHA.account_id) is None
    # And the caller's own progress hook still sees every finished account
    feed.progress(lambda result, done, total: calls.append((result.account.account_id, done, total)))(
        stored(BETA), 1, 1
    )
    assert calls == [(BETA.account_id, 1, 1)]


def test_closing_the_feed_hands_the_unfinished_accounts_their_result():
    # Given a reader waiting on an account the time budget will leave unfinished
    feed = ScanFeed([ALPHA.account_id, BETA.account_id])
    thread, got = reader(feed, BETA.account_id)
    not_scanned = AccountResult(BETA, AccountStatus.NOT_SCANNED, error_code="NotScanned")
    # When the scan phase ends with beta unfinished
    feed.close({BETA.account_id: not_scanned})
    thread.join(timeout=STUCK)
    # Then the reader gets that result, and alpha (never reported) is no longer waited on
    assert got == [not_scanned]
    assert feed.wait(ALPHA.account_id) is None


def test_a_scan_phase_that_raises_makes_every_waiting_reader_raise_it():
    # Given a scan phase that crashes (a bug, or the store refusing a write) while finalize waits
    feed = ScanFeed([ALPHA.account_id])
    thread, got = reader(feed, ALPHA.account_id)

    def crash() -> dict[str, AccountResult]:
        raise OSError("disk full")

    # When it runs on its own thread
    in_background(crash, feed).join(timeout=STUCK)
    thread.join(timeout=STUCK)
    # Then the reader raises the same error: finalize stops, and nothing is published
    assert len(got) == 1
    assert isinstance(got[0], OSError)
    assert str(got[0]) == "disk full"
    with pytest.raises(OSError, match="disk full"):
        feed.wait(ALPHA.account_id)


def test_the_background_scan_closes_the_feed_with_what_it_returned():
    # Given a scan phase that leaves alpha unfinished
    feed = ScanFeed([ALPHA.account_id])
    unfinished = AccountResult(ALPHA, AccountStatus.NOT_SCANNED, error_code="NotScanned")
    # When it ends
    in_background(lambda: {ALPHA.account_id: unfinished}, feed).join(timeout=STUCK)
    # Then finalize reads alpha's result
    assert feed.wait(ALPHA.account_id) == unfinished


def scan_of(account: Account, users: int) -> AccountScan:
    inventory = make_inventory(*(make_user(f"u{n}") for n in range(users)), account_id=account.account_id)
    return AccountScan(
        run_id="run", result=AccountResult(account, AccountStatus.SCANNED, inventory=inventory)
    )


def test_a_stored_scan_is_handed_to_finalize_once_within_the_budget():
    # Given a feed holding at most 20 users and findings, and alpha's scan of 10 users just stored
    feed = ScanFeed([ALPHA.account_id, BETA.account_id], kept_budget=20)
    alpha = scan_of(ALPHA, 10)
    feed.keep(alpha)
    # When finalize takes it
    # Then it gets the very scan, once; after that it reads the store (None)
    assert feed.take(ALPHA.account_id) is alpha
    assert feed.take(ALPHA.account_id) is None
    # And what it took no longer counts: another scan of 10 users fits again
    feed.keep(scan_of(BETA, 10))
    assert feed.take(BETA.account_id) is not None


def test_a_scan_past_the_budget_is_left_to_the_store():
    # Given a feed holding at most 20, already holding alpha (11: the account and its 10 users)
    feed = ScanFeed([ALPHA.account_id, BETA.account_id], kept_budget=20)
    feed.keep(scan_of(ALPHA, 10))
    # When beta's 10 users are stored while finalize has not taken alpha yet
    feed.keep(scan_of(BETA, 10))
    # Then beta is not held (finalize reads it back from the store), and alpha still is
    assert feed.take(BETA.account_id) is None
    assert feed.take(ALPHA.account_id) is not None


GAMMA, DELTA = Account("333333333333", "gamma"), Account("444444444444", "delta")


def worker_admitted(feed: ScanFeed) -> threading.Thread:
    """A worker about to start its next account, as the scan phase's are: it returns once admitted."""
    thread = threading.Thread(target=feed.admit)
    thread.start()
    return thread


def full_feed() -> ScanFeed:
    """A feed of 40 holding alpha, beta and gamma (11 each), that had no room for delta."""
    feed = ScanFeed([account.account_id for account in (ALPHA, BETA, GAMMA, DELTA)], kept_budget=40)
    for account in (ALPHA, BETA, GAMMA, DELTA):
        feed.keep(scan_of(account, 10))
    return feed


def test_workers_wait_while_finalize_is_behind_until_half_the_budget_is_free():
    # Given a hand-over budget that is full (finalize is behind the scan) and finalize waiting for nothing
    feed = full_feed()
    assert feed.behind()
    # When a worker is about to start its next account, it waits
    worker = worker_admitted(feed)
    worker.join(timeout=0.05)
    assert worker.is_alive()
    # And one account taken (22 of 40 still held) is not enough to start again
    assert feed.take(ALPHA.account_id) is not None
    assert feed.behind()
    # Then with half the budget free (11 of 40 held), the worker starts
    assert feed.take(BETA.account_id) is not None
    worker.join(timeout=STUCK)
    assert not worker.is_alive()
    assert not feed.behind()


def test_workers_are_never_held_while_finalize_waits_for_an_account():
    # Given a full budget, and a worker held back
    feed = full_feed()
    worker = worker_admitted(feed)
    # When finalize comes to wait for delta, which is not stored yet (it may be the next one to start)
    thread, got = reader(feed, DELTA.account_id)
    # Then the worker starts at once: holding it could leave finalize waiting for ever
    worker.join(timeout=STUCK)
    assert not worker.is_alive()
    feed.progress(None)(stored(DELTA), 4, 4)
    thread.join(timeout=STUCK)
    assert got == [None]


def test_no_worker_is_held_once_finalize_stopped_reading():
    # Given a full budget and a worker held back
    feed = full_feed()
    worker = worker_admitted(feed)
    # When finalize stops reading (it failed, say), the worker goes on: the scan phase can end
    feed.stop_reading()
    worker.join(timeout=STUCK)
    assert not worker.is_alive()
    assert not feed.behind()


def test_a_scan_larger_than_the_whole_budget_does_not_hold_workers_back():
    # Given an empty feed of 20, and an account of 30 users just stored (it could never be held)
    feed = ScanFeed([ALPHA.account_id, BETA.account_id], kept_budget=20)
    feed.keep(scan_of(ALPHA, 30))
    # Then finalize is not behind: it reads that one from the store, and workers go on
    assert not feed.behind()
    assert feed.take(ALPHA.account_id) is None
