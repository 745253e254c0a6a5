"""The comparison state: a small versioned document each run writes, and the next run compares with.

`<run folder>/state.jsonl.gz`: a header line (kind, schema version, run, the run it compared with, the
trend history), then one line per finding: the finding, when it was first seen, and how many baseline
runs in a row could not scan its account. It is read as a stream, line by line, never as a whole.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from iam_inventory.compare.finding_codec import finding_entry, finding_from_entry
from iam_inventory.core.clock import iso, parse_iso
from iam_inventory.evaluate.changes import StateEntry, StateStatus
from iam_inventory.publish.storage.run_stores import RunStore

STATE_KIND = "iam-inventory/comparison-state"
# Readers accept any 1.x: a minor version only adds optional fields.
STATE_SCHEMA_VERSION = "1.0"
STATE_FILE = "state.jsonl.gz"
LATEST_KEY = "latest.json"
# Everything that reading a state can raise when the state is damaged.
DAMAGED_STATE = (ClientError, BotoCoreError, OSError, EOFError, zlib.error, ValueError, KeyError, TypeError)


class IncompatibleState(ValueError):
    """The state was written in a format this version cannot read."""


@dataclass(frozen=True, slots=True)
class StateHeader:
    """The first line of a state document."""

    run_id: str
    folder: str
    started_at: str
    previous_run_id: str | None = None
    previous_folder: str | None = None
    history: tuple[dict[str, Any], ...] = ()


@dataclass(slots=True)
class PreviousState:
    """What the baseline left for this run to compare with, or why there is nothing usable."""

    status: StateStatus
    detail: str = ""
    header: StateHeader | None = None
    entries: Iterator[StateEntry] = field(default_factory=lambda: iter(()))

    @property
    def comparable(self) -> bool:
        """True when new/resolved mean something: a readable state, or a first run."""
        return self.status in (StateStatus.OK, StateStatus.NONE)


def encode_header(header: StateHeader) -> str:
    """The header line."""
    document = {
        "kind": STATE_KIND,
        "schema_version": STATE_SCHEMA_VERSION,
        "run_id": header.run_id,
        "folder": header.folder,
        "started_at": header.started_at,
        "previous_run_id": header.previous_run_id,
        "previous_folder": header.previous_folder,
        "history": list(header.history),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


def encode_entry(entry: StateEntry) -> str:
    """One finding's line."""
    finding = finding_entry(entry.finding, entry.first_seen_at, False)
    document = {
        "finding": finding,
        "first_seen_at": iso(entry.first_seen_at),
        "missed_runs": entry.missed_runs,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


def decode_header(line: bytes) -> StateHeader:
    """The header line read back; IncompatibleState for another kind or major version."""
    document = json.loads(line)
    if not isinstance(document, dict) or document.get("kind") != STATE_KIND:
        raise IncompatibleState("not an iam-inventory comparison state")
    version = str(document.get("schema_version", ""))
    if version.split(".")[0] != STATE_SCHEMA_VERSION.split(".")[0]:
        raise IncompatibleState(f"state schema {version!r}, this version reads {STATE_SCHEMA_VERSION}")
    return StateHeader(
        run_id=str(document["run_id"]),
        folder=str(document["folder"]),
        started_at=str(document["started_at"]),
        previous_run_id=document.get("previous_run_id"),
        previous_folder=document.get("previous_folder"),
        history=tuple(document.get("history") or ()),
    )


def decode_entry(line: bytes) -> StateEntry:
    """One finding's line read back."""
    document = json.loads(line)
    return StateEntry(
        finding=finding_from_entry(document["finding"]),
        first_seen_at=parse_iso(document["first_seen_at"]),
        missed_runs=int(document["missed_runs"]),
    )


def open_state(stream: IO[bytes]) -> tuple[StateHeader, Iterator[StateEntry]]:
    """The header of a gzipped state, and its entries as they are read."""
    lines = gzip.GzipFile(fileobj=stream, mode="rb")
    header = decode_header(lines.readline())

    def entries() -> Iterator[StateEntry]:
        with lines:
            for line in lines:
                if line.strip():
                    yield decode_entry(line)

    return header, entries()


def read_latest(store: RunStore) -> dict[str, Any] | None:
    """The latest.json pointer, or None before the first baseline."""
    stream = store.open(LATEST_KEY)
    if stream is None:
        return None
    with stream:
        pointer = json.loads(stream.read())
    if not isinstance(pointer, dict) or not isinstance(pointer.get("folder"), str):
        raise ValueError("latest.json has no folder")
    return pointer


def load_previous(store: RunStore, run_id: str) -> PreviousState:
    """The baseline's state through latest.json; a damaged one is reported, never taken as empty."""
    try:
        return _load_previous(store, run_id)
    except IncompatibleState as error:
        return PreviousState(StateStatus.INCOMPATIBLE, str(error))
    except DAMAGED_STATE as error:
        return PreviousState(StateStatus.UNREADABLE, f"{type(error).__name__}: {error}"[:300])


def _load_previous(store: RunStore, run_id: str) -> PreviousState:
    latest = read_latest(store)
    if latest is None:
        return PreviousState(StateStatus.NONE, "first run: no baseline to compare with")
    folder = latest["folder"]
    for _ in range(2):
        stream = store.open(f"{folder}/{STATE_FILE}")
        if stream is None:
            raise IncompatibleState(f"{folder} has no {STATE_FILE} (written by an older version?)")
        header, entries = open_state(stream)
        if header.run_id != run_id:
            return PreviousState(StateStatus.OK, header=header, entries=entries)
        # A retried run overwrote its own folder: compare with what its first attempt compared with.
        stream.close()
        if header.previous_folder is None:
            return PreviousState(StateStatus.NONE, "first run: no baseline to compare with")
        folder = header.previous_folder
    raise ValueError(f"the state in {folder} compares the run with itself")
