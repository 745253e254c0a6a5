"""Where a run's files live, decided once at bootstrap: the report bucket, the CLI's --out folder, or memory.

Every step asks the location instead of deciding again: the scans go to its scan store, the previous run
is read from its run store, the finished files go to its sinks. With both a bucket and --out (the CLI),
the bucket is the location and --out gets a copy of the published files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from iam_inventory.assume.clients import ClientFactory
from iam_inventory.config.settings import ConfigError, Settings
from iam_inventory.pipeline.scan_store import LocalScanStore, MemoryScanStore, S3ScanStore, ScanStore
from iam_inventory.publish.storage.file_sinks import LocalSink, ReportSink, S3Sink
from iam_inventory.publish.storage.run_stores import LocalRunStore, NoRunStore, RunStore, S3RunStore


@dataclass(frozen=True, slots=True)
class ReportLocation:
    """The report root: S3 (bucket and prefix), a local folder, or neither (memory: nothing is kept)."""

    factory: ClientFactory
    bucket: str | None = None
    prefix: str = ""
    local_dir: Path | None = None

    @property
    def keeps_files(self) -> bool:
        """Whether a run that is not a dry run has somewhere to publish."""
        return self.bucket is not None or self.local_dir is not None

    def scan_store(self, folder: str, dry_run: bool = False) -> ScanStore:
        """The run folder's scan store; a dry run keeps its scans in memory only."""
        if dry_run:
            return MemoryScanStore()
        if self.bucket:
            return S3ScanStore(self.factory.hub_client("s3"), self.bucket, self.prefix, folder)
        if self.local_dir is not None:
            return LocalScanStore(self.local_dir, folder)
        return MemoryScanStore()

    def fanout_scan_store(self, bucket: str, folder: str) -> S3ScanStore:
        """The scan store a fan-out event names; its bucket must be this location's (REPORT_BUCKET)."""
        if bucket != self.bucket:
            raise ConfigError(
                f"invalid event: run.bucket {bucket!r} is not this function's REPORT_BUCKET {self.bucket!r}"
            )
        return S3ScanStore(self.factory.hub_client("s3"), bucket, self.prefix, folder)

    def run_store(self) -> RunStore:
        """Where the previous run (state, latest.json, its scans) is read from."""
        if self.bucket:
            return S3RunStore(self.factory.hub_client("s3"), self.bucket, self.prefix)
        if self.local_dir is not None:
            return LocalRunStore(self.local_dir)
        return NoRunStore()

    def sinks(self) -> list[ReportSink]:
        """Where the finished files are written: the bucket and/or the local folder."""
        sinks: list[ReportSink] = []
        if self.bucket:
            sinks.append(S3Sink(self.factory.hub_client("s3"), self.bucket, self.prefix))
        if self.local_dir is not None:
            sinks.append(LocalSink(self.local_dir))
        return sinks

    def base(self) -> str:
        """What the Athena manifests put before a run file's key: the report root's URL."""
        if self.bucket:
            return f"s3://{self.bucket}/{self.prefix}/" if self.prefix else f"s3://{self.bucket}/"
        return f"{self.local_dir.resolve().as_uri()}/" if self.local_dir is not None else ""

    def key(self, folder: str, name: str) -> str:
        """The object key of `name` in a run folder, under the report prefix."""
        return "/".join(part for part in (self.prefix, folder, name) if part)


def report_location(
    settings: Settings, factory: ClientFactory, local_dir: Path | None = None
) -> ReportLocation:
    """The run's location from REPORT_BUCKET/REPORT_PREFIX and the CLI's --out."""
    return ReportLocation(
        factory=factory,
        bucket=settings.report_bucket or None,
        prefix=settings.report_prefix,
        local_dir=local_dir,
    )
