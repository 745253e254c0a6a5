"""New, resolved and carried-over findings, computed against the previous state without holding it.

The previous state is loaded into a SQLite file in a temporary folder, so memory stays flat whatever
the number of findings; this run's finding ids and scanned accounts go beside it as the run streams by.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from iam_inventory.compare.state import DAMAGED_STATE, PreviousState, decode_entry, encode_entry
from iam_inventory.core.clock import iso, parse_iso
from iam_inventory.evaluate.changes import StateEntry, StateStatus, carry_forward

_SCHEMA = """
CREATE TABLE previous (
    finding_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, first_seen_at TEXT NOT NULL, line TEXT NOT NULL
);
CREATE TABLE seen (finding_id TEXT PRIMARY KEY);
CREATE TABLE scanned (account_id TEXT PRIMARY KEY);
CREATE INDEX previous_by_account ON previous (account_id);
"""
_BATCH = 1000


def _json_array(rows: list[Any]) -> str:
    # Many rows in one bound JSON parameter, read with json_each: one statement step for all of them.
    # The sqlite3 module lets go of the GIL at every step (executemany: every row), and while accounts
    # are scanned, taking it back costs the writing thread up to a switch interval (5 ms) each time.
    return json.dumps(rows)


class Comparison:
    """This run against the previous state: ask about each finding as it comes, then for the rest."""

    def __init__(self, previous: PreviousState) -> None:
        self.previous = previous
        self._folder = tempfile.TemporaryDirectory(prefix="iam-inventory-compare-")
        self._db = sqlite3.connect(Path(self._folder.name) / "comparison.db")
        # The file is scratch: a crash loses nothing that a rerun does not rebuild.
        self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        self.previous_count = 0
        if previous.comparable:
            try:
                self.previous_count = self._load(previous.entries)
            except DAMAGED_STATE as error:
                # Damage deep in the file counts like damage at its start: reported, never half-used.
                self._db.execute("DELETE FROM previous")
                self.previous = PreviousState(
                    StateStatus.UNREADABLE, f"{type(error).__name__}: {error}"[:300]
                )

    def _load(self, entries: Iterator[StateEntry]) -> int:
        count = 0
        batch: list[tuple[str, str, str | None, str]] = []
        for entry in entries:
            finding = entry.finding
            # First seen beside the line: every finding of the run asks for it, and a column needs no decode.
            seen = iso(entry.first_seen_at)
            batch.append((finding.finding_id, finding.account_id, seen, encode_entry(entry)))
            if len(batch) >= _BATCH:
                count += self._insert(batch)
        return count + self._insert(batch)

    def _insert(self, batch: list[tuple[str, str, str | None, str]]) -> int:
        self._db.execute(
            # json_extract, not the ->> operator: that needs SQLite 3.38 (Ubuntu 22.04's Python has 3.37).
            "INSERT OR REPLACE INTO previous SELECT json_extract(value, '$[0]'), "
            "json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]') "
            "FROM json_each(?)",
            (_json_array(batch),),
        )
        inserted = len(batch)
        batch.clear()
        return inserted

    def known(self, finding_id: str) -> StateEntry | None:
        """The previous state's entry for a finding, or None when it is new."""
        row = self._db.execute("SELECT line FROM previous WHERE finding_id = ?", (finding_id,)).fetchone()
        return decode_entry(row[0].encode()) if row else None

    def first_seen_of(self, finding_ids: Iterable[str]) -> dict[str, datetime]:
        """When the previous state first saw each of these findings; a new finding is not in the answer."""
        (found,) = self._db.execute(
            "SELECT json_group_object(finding_id, first_seen_at) FROM previous "
            "WHERE finding_id IN (SELECT value FROM json_each(?))",
            (_json_array(list(finding_ids)),),
        ).fetchone()
        return {finding_id: parse_iso(seen) for finding_id, seen in json.loads(found).items()}

    def see(self, finding_id: str) -> None:
        """Record a finding of this run."""
        self.see_all((finding_id,))

    def see_all(self, finding_ids: Iterable[str]) -> None:
        """Record findings of this run (one statement for an account's findings)."""
        self._db.execute(
            "INSERT OR IGNORE INTO seen SELECT value FROM json_each(?)", (_json_array(list(finding_ids)),)
        )

    def scanned(self, account_id: str) -> None:
        """Record an account this run scanned: its previous findings are now either current or resolved."""
        self._db.execute("INSERT OR IGNORE INTO scanned VALUES (?)", (account_id,))

    def resolved(self) -> Iterator[StateEntry]:
        """Previous findings of scanned accounts that this run no longer found."""
        yield from self._query(
            "SELECT line FROM previous WHERE account_id IN (SELECT account_id FROM scanned) "
            "AND finding_id NOT IN (SELECT finding_id FROM seen) ORDER BY finding_id"
        )

    def resolved_in(self, account_id: str) -> Iterator[StateEntry]:
        """The resolved findings of one account (Security Hub imports account by account)."""
        yield from self._query(
            "SELECT line FROM previous WHERE account_id = ? "
            "AND account_id IN (SELECT account_id FROM scanned) "
            "AND finding_id NOT IN (SELECT finding_id FROM seen) ORDER BY finding_id",
            (account_id,),
        )

    def unscanned(self) -> Iterator[StateEntry]:
        """Previous findings of accounts this run did not scan (skipped, failed, out of scope)."""
        yield from self._query(
            "SELECT line FROM previous WHERE account_id NOT IN (SELECT account_id FROM scanned) "
            "AND finding_id NOT IN (SELECT finding_id FROM seen) ORDER BY finding_id"
        )

    def carried_over(self, limit: int) -> Iterator[StateEntry | None]:
        """Unscanned findings one run older; None for each one that expired after `limit` runs."""
        for entry in self.unscanned():
            yield carry_forward(entry, limit)

    def _query(self, sql: str, parameters: tuple[str, ...] = ()) -> Iterator[StateEntry]:
        # A second cursor: the caller may call known()/see() while iterating.
        cursor = self._db.cursor()
        for (line,) in cursor.execute(sql, parameters):
            yield decode_entry(line.encode())

    def close(self) -> None:
        """Drop the scratch database."""
        self._db.close()
        self._folder.cleanup()
