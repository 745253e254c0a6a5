"""Where a finalized run goes: the report bucket and/or the local folder, committed, then latest.json."""

from __future__ import annotations

import shutil
from dataclasses import replace

from iam_inventory.evaluate.changes import RunStatus
from iam_inventory.publish.render.owners import OWNERS_FOLDER
from iam_inventory.publish.storage.file_sinks import LocalSink, ReportSink
from iam_inventory.publish.storage.pointers import commit_files, latest_pointer
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
