"""A run's output files while they are written: spooled, in memory until they grow, then in /tmp.

Files are spooled (tempfile.SpooledTemporaryFile): small ones stay in memory, large ones roll over to
/tmp, so publishing never holds a whole large file in memory. The renderers write into them; the
sinks (publish/storage/) copy them out.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from typing import IO

# Past this many bytes a spooled file moves from memory to a temporary file.
SPOOL_BYTES = 4 * 1024 * 1024
# The buffer of a spool once on disk: the renderers write a line or an account at a time, and without it
# each of those writes past 8 KiB is a system call of its own (a fifth of finalize's CPU at 25k findings).
WRITE_BUFFER_BYTES = 256 * 1024


class Spool:
    """A write-then-read temporary file, in memory until it grows past `max_bytes`."""

    def __init__(self, max_bytes: int = SPOOL_BYTES) -> None:
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=max_bytes, mode="w+b", buffering=WRITE_BUFFER_BYTES
        )

    def write(self, data: str | bytes) -> None:
        """Append text (UTF-8) or bytes."""
        chunk = data.encode() if isinstance(data, str) else data
        self.file.write(chunk)

    def copy_to(self, target: Spool) -> None:
        """Append this spool's bytes to `target`, a chunk at a time."""
        self.file.seek(0)
        while chunk := self.file.read(1024 * 1024):
            target.write(chunk)
        self.file.seek(0, 2)

    def reader(self) -> IO[bytes]:
        """The spooled bytes, positioned at the start."""
        self.file.seek(0)
        return self.file

    def close(self) -> None:
        """Free the memory or temporary file."""
        self.file.close()


@dataclass(slots=True)
class ReportFile:
    """One file of a run's output, spooled."""

    name: str
    key: str  # relative to the report root
    content_type: str
    body: Spool = field(default_factory=Spool)
    # Written under its plain name in a local folder (the CLI's --out); else under its key.
    flat: bool = True


CSV_TYPE = "text/csv; charset=utf-8"
JSON_TYPE = "application/json"
JSONL_TYPE = "application/x-ndjson"
HTML_TYPE = "text/html; charset=utf-8"


def run_file(folder: str, name: str, content_type: str, spool_bytes: int, flat: bool = True) -> ReportFile:
    """A file of the run in `folder`, spooled."""
    return ReportFile(name, f"{folder}/{name}", content_type, Spool(spool_bytes), flat=flat)
