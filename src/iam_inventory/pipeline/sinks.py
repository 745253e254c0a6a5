"""Where a finalized run goes: the report bucket and/or the local folder, committed, then latest.json."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from iam_inventory.assume.clients import ClientFactory
from iam_inventory.config.settings import Settings
from iam_inventory.evaluate.changes import RunStatus
from iam_inventory.publish.run_enrichment import OWNERS_FOLDER
from iam_inventory.publish.storage.file_sinks import LocalSink, ReportSink, S3Sink
from iam_inventory.publish.storage.pointers import commit_files, latest_pointer
from iam_inventory.publish.storage.run_stores import LocalRunStore, NoRunStore, RunStore, S3RunStore
from iam_inventory.publish.written import Written


def publish_files(written: Written, sinks: list[ReportSink], base: str) -> dict[str, str]:
    """Every run file to every sink; then the commit (Athena); then latest.json, for a baseline run only."""
    locations: dict[str, str] = {}
    keys: dict[str, str] = {}
    if written.status is not RunStatus.FAILED:
        for sink in sinks:
            if isinstance(sink, LocalSink):
                # The flat owners/ folder is this run's owners only: an owner with nothing left has no file.
                shutil.rmtree(sink.directory / OWNERS_FOLDER, ignore_errors=True)
    for file in written.files:
        keys[file.name] = file.key
        # A failed run never replaces the files of a good one: in a local folder it goes under its key.
        publishable = replace(file, flat=False) if written.status is RunStatus.FAILED else file
        for sink in sinks:
            locations.setdefault(file.name, sink.write(publishable))
    commits = commit_files(written, base)
    if written.baseline:
        commits.append(latest_pointer(written, keys))
    for file in commits:
        for sink in sinks:
            location = sink.write(file)
            if file.name == "latest.json":
                locations.setdefault(file.name, location)
        file.body.close()
    return locations


def sinks_for(settings: Settings, local_dir: Path | None, factory: ClientFactory) -> list[ReportSink]:
    """The report bucket and/or the local output folder."""
    sinks: list[ReportSink] = []
    if settings.report_bucket:
        sinks.append(S3Sink(factory.hub_client("s3"), settings.report_bucket, settings.report_prefix))
    if local_dir is not None:
        sinks.append(LocalSink(local_dir))
    return sinks


def location_base(settings: Settings, local_dir: Path | None) -> str:
    """What the Athena manifests put before a run file's key: the report root's URL."""
    if settings.report_bucket:
        prefix = f"{settings.report_prefix}/" if settings.report_prefix else ""
        return f"s3://{settings.report_bucket}/{prefix}"
    return f"{local_dir.resolve().as_uri()}/" if local_dir is not None else ""


def run_store(settings: Settings, local_dir: Path | None, factory: ClientFactory) -> RunStore:
    """Where the previous run is read from: the report bucket, else the local output directory."""
    if settings.report_bucket:
        return S3RunStore(factory.hub_client("s3"), settings.report_bucket, settings.report_prefix)
    if local_dir is not None:
        return LocalRunStore(local_dir)
    return NoRunStore()
