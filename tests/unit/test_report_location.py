"""One report location hands out the scan store, the run store and the sinks: decided once, never again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from iam_inventory.config.settings import ConfigError, Settings
from iam_inventory.pipeline.location import ReportLocation, report_location
from iam_inventory.pipeline.scan_store import LocalScanStore, MemoryScanStore, S3ScanStore
from iam_inventory.publish.storage.file_sinks import LocalSink, S3Sink
from iam_inventory.publish.storage.run_stores import LocalRunStore, NoRunStore, S3RunStore

FOLDER = "runs/dt=2026-12-03/r1"


class FakeFactory:
    """Counts the hub clients asked for: the location builds none until a store or sink needs S3."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def hub_client(self, service: str) -> Any:
        self.asked.append(service)
        return object()


def location(local_dir: Path | None = None, **env: str) -> tuple[ReportLocation, FakeFactory]:
    factory = FakeFactory()
    settings = Settings.from_env({"ACCOUNT_IDS": "111111111111", **env})
    return report_location(settings, factory, local_dir), factory  # type: ignore[arg-type]


def test_a_bucket_is_the_location_and_out_gets_a_copy(tmp_path):
    # Given REPORT_BUCKET and the CLI's --out
    where, factory = location(tmp_path, REPORT_BUCKET="reports", REPORT_PREFIX="inv")
    # When the run asks for its stores and sinks
    scans, previous, sinks = where.scan_store(FOLDER), where.run_store(), where.sinks()
    # Then scans and the previous run live in the bucket, and the files go to both
    assert isinstance(scans, S3ScanStore)
    assert isinstance(previous, S3RunStore)
    assert (previous.bucket, previous.prefix) == ("reports", "inv")
    assert [type(sink) for sink in sinks] == [S3Sink, LocalSink]
    assert where.base() == "s3://reports/inv/"
    assert where.key(FOLDER, "items.json") == f"inv/{FOLDER}/items.json"
    assert factory.asked == ["s3", "s3", "s3"]


def test_out_alone_is_the_location(tmp_path):
    # Given --out and no bucket
    where, factory = location(tmp_path)
    # Then everything is under the folder, and no AWS client is built for it
    assert isinstance(where.scan_store(FOLDER), LocalScanStore)
    assert where.run_store() == LocalRunStore(tmp_path)
    assert where.sinks() == [LocalSink(tmp_path)]
    assert where.base() == f"{tmp_path.resolve().as_uri()}/"
    assert where.keeps_files
    assert factory.asked == []


def test_neither_keeps_nothing_and_a_dry_run_keeps_its_scans_in_memory(tmp_path):
    # Given no bucket and no --out
    nowhere, _ = location()
    # Then nothing is kept: memory scans, no previous run, no sinks
    assert not nowhere.keeps_files
    assert isinstance(nowhere.scan_store(FOLDER), MemoryScanStore)
    assert isinstance(nowhere.run_store(), NoRunStore)
    assert nowhere.sinks() == []
    assert nowhere.base() == ""
    # And a dry run never writes scans, whatever the location
    bucket, _ = location(tmp_path, REPORT_BUCKET="reports")
    assert isinstance(bucket.scan_store(FOLDER, dry_run=True), MemoryScanStore)


def test_a_fanout_event_naming_another_bucket_is_refused():
    # Given a worker whose REPORT_BUCKET is "reports"
    where, _ = location(REPORT_BUCKET="reports")
    # When an event names its own bucket, it gets that run folder's store
    assert isinstance(where.fanout_scan_store("reports", FOLDER), S3ScanStore)
    # Then an event naming another bucket stops with one clear line, before any read
    with pytest.raises(ConfigError, match=r"run\.bucket 'elsewhere' is not this function's REPORT_BUCKET"):
        where.fanout_scan_store("elsewhere", FOLDER)
