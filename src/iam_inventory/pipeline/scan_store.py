"""The scan store: each finished account's AccountScan, and the run's manifest, kept under the run.

    <prefix>/runs/dt=YYYY-MM-DD/<run_id>/manifest.json.gz
    <prefix>/runs/dt=YYYY-MM-DD/<run_id>/accounts/<account_id>.json.gz

in S3, or the same relative layout under the CLI's --out directory. A retried invocation of the same run
reads it to skip the accounts already stored; finalize reads it one account at a time.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from iam_inventory.core.retry import client_error_code
from iam_inventory.models import RunContext
from iam_inventory.models.codec import RunManifest, decode, encode
from iam_inventory.models.scan import AccountScan
from iam_inventory.publish.storage.pointers import dated_folder

MANIFEST = "manifest.json.gz"
ACCOUNTS = "accounts"
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def scan_folder(context: RunContext) -> str:
    """Where the run's AccountScans are kept: its dated folder, with no manual/ prefix for override runs."""
    return dated_folder(context)


class ScanStore(Protocol):
    """Where a run's AccountScans and manifest are kept between its steps."""

    def put(self, name: str, body: bytes) -> None:
        """Store `body` under the run folder as `name`."""
        ...

    def get(self, name: str) -> bytes | None:
        """The body stored as `name`, or None."""
        ...

    def names(self, folder: str) -> set[str]:
        """The names stored directly under `folder` of the run folder."""
        ...


def put_scan(store: ScanStore, scan: AccountScan) -> None:
    """Store one finished account."""
    store.put(f"{ACCOUNTS}/{scan.result.account.account_id}.json.gz", encode(scan))


def get_scan(store: ScanStore, account_id: str) -> AccountScan | None:
    """One account's stored scan, or None when it has none yet."""
    body = store.get(f"{ACCOUNTS}/{account_id}.json.gz")
    return None if body is None else decode(AccountScan, body)


def has_scan(store: ScanStore, account_id: str) -> bool:
    """True when the account's scan is stored already."""
    return store.get(f"{ACCOUNTS}/{account_id}.json.gz") is not None


def stored_account_ids(store: ScanStore) -> set[str]:
    """The accounts whose scan is already stored (a resumed run skips them)."""
    return {name.removesuffix(".json.gz") for name in store.names(ACCOUNTS) if name.endswith(".json.gz")}


def put_manifest(store: ScanStore, manifest: RunManifest) -> None:
    """Store the run's manifest (its context and accounts, as discovery fixed them)."""
    store.put(MANIFEST, encode(manifest))


def get_manifest(store: ScanStore) -> RunManifest | None:
    """The run's manifest, or None for a run not started yet."""
    body = store.get(MANIFEST)
    return None if body is None else decode(RunManifest, body)


class S3ScanStore:
    """The run folder in the report bucket."""

    def __init__(self, s3: BaseClient, bucket: str, prefix: str, folder: str) -> None:
        self._s3, self._bucket = s3, bucket
        self._root = "/".join(part for part in (prefix, folder) if part)

    def put(self, name: str, body: bytes) -> None:
        """PutObject; the bucket's default encryption applies."""
        self._s3.put_object(
            Bucket=self._bucket,
            Key=f"{self._root}/{name}",
            Body=body,
            ContentType="application/gzip" if name.endswith(".gz") else "application/json",
        )

    def get(self, name: str) -> bytes | None:
        """GetObject, None on NoSuchKey."""
        try:
            body: bytes = self._s3.get_object(Bucket=self._bucket, Key=f"{self._root}/{name}")["Body"].read()
            return body
        except ClientError as error:
            if client_error_code(error) in _MISSING_CODES:
                return None
            raise

    def names(self, folder: str) -> set[str]:
        """ListObjectsV2 over the folder, every page."""
        prefix = f"{self._root}/{folder}/"
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix)
        return {item["Key"][len(prefix) :] for page in pages for item in page.get("Contents", [])}


class LocalScanStore:
    """The run folder under a local directory (the CLI's --out)."""

    def __init__(self, directory: Path, folder: str) -> None:
        self._root = directory / folder

    def put(self, name: str, body: bytes) -> None:
        """Write atomically (a rename), so an interrupted run never leaves half a scan behind."""
        path = self._root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_bytes(body)
        partial.replace(path)

    def get(self, name: str) -> bytes | None:
        """The file's bytes, None when absent."""
        path = self._root / name
        return path.read_bytes() if path.is_file() else None

    def names(self, folder: str) -> set[str]:
        """The files in the folder."""
        directory = self._root / folder
        if not directory.is_dir():
            return set()
        return {path.name for path in directory.iterdir() if path.is_file() and not path.name.startswith(".")}


class MemoryScanStore:
    """A dry run's store: kept in the process only, never written anywhere."""

    def __init__(self) -> None:
        self._bodies: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(self, name: str, body: bytes) -> None:
        """Keep the body."""
        with self._lock:
            self._bodies[name] = body

    def get(self, name: str) -> bytes | None:
        """The body kept, or None."""
        with self._lock:
            return self._bodies.get(name)

    def names(self, folder: str) -> set[str]:
        """The names kept under the folder."""
        with self._lock:
            return {name.removeprefix(f"{folder}/") for name in self._bodies if name.startswith(f"{folder}/")}
