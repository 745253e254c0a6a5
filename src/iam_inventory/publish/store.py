"""Where a run's files go (S3 or a local folder) and where earlier runs are read back from.

Files are spooled (tempfile.SpooledTemporaryFile): small ones stay in memory, large ones roll over to
/tmp, so publishing never holds a whole large file in memory.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from botocore.client import BaseClient

# Past this many bytes a spooled file moves from memory to a temporary file.
SPOOL_BYTES = 4 * 1024 * 1024


class Spool:
    """A write-then-read temporary file, in memory until it grows past `max_bytes`."""

    def __init__(self, max_bytes: int = SPOOL_BYTES) -> None:
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=max_bytes, mode="w+b")  # noqa: SIM115

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


class ReportSink(Protocol):
    """Where report files go."""

    def write(self, file: ReportFile) -> str:
        """Store one file under its key; return where it landed."""
        ...


@dataclass(frozen=True, slots=True)
class S3Sink:
    """Writes under s3://bucket/prefix/."""

    s3: BaseClient
    bucket: str
    prefix: str

    def write(self, file: ReportFile) -> str:
        """PutObject from the spool (streamed; botocore rewinds it on a retry); default encryption applies."""
        full_key = f"{self.prefix}/{file.key}" if self.prefix else file.key
        self.s3.put_object(
            Bucket=self.bucket, Key=full_key, Body=file.body.reader(), ContentType=file.content_type
        )
        return f"s3://{self.bucket}/{full_key}"


@dataclass(frozen=True, slots=True)
class LocalSink:
    """Writes into a local folder: report files flat (the CLI's --out), state and commit files by key."""

    directory: Path

    def write(self, file: ReportFile) -> str:
        """Copy the spool to directory/<name> (flat files) or directory/<key>."""
        path = self.directory / (file.name if file.flat else file.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as target:
            shutil.copyfileobj(file.body.reader(), target)
        return str(path)


class RunStore(Protocol):
    """Read access to where earlier runs were published."""

    def open(self, key: str) -> IO[bytes] | None:
        """A readable stream of the object under `key` (relative to the report root), or None."""
        ...


@dataclass(frozen=True, slots=True)
class S3RunStore:
    """Earlier runs under s3://bucket/prefix/."""

    s3: BaseClient
    bucket: str
    prefix: str

    def open(self, key: str) -> IO[bytes] | None:
        """GetObject's streaming body; a missing key is None (the role may ListBucket, so S3 says 404)."""
        full_key = f"{self.prefix}/{key}" if self.prefix else key
        try:
            body: IO[bytes] = self.s3.get_object(Bucket=self.bucket, Key=full_key)["Body"]
        except self.s3.exceptions.NoSuchKey:
            return None
        return body


@dataclass(frozen=True, slots=True)
class LocalRunStore:
    """Earlier runs in a local output folder."""

    directory: Path

    def open(self, key: str) -> IO[bytes] | None:
        """The file directory/<key>, or None."""
        path = self.directory / key
        return path.open("rb") if path.is_file() else None


class NoRunStore:
    """No earlier runs anywhere (a dry run with no output)."""

    def open(self, key: str) -> IO[bytes] | None:
        """Always None."""
        return None
