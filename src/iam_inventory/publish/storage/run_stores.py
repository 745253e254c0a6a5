"""Where earlier runs are read back from: the report bucket, a local folder, or nowhere."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from botocore.client import BaseClient


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
