"""Where a run's files go: S3 or a local folder."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from botocore.client import BaseClient

from iam_inventory.publish.spool import ReportFile


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
