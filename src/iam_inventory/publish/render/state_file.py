"""state.jsonl.gz, the comparison state the next run reads (its format: compare/state.py)."""

from __future__ import annotations

import gzip
from dataclasses import replace

from iam_inventory.compare.state import STATE_FILE, StateHeader, encode_entry, encode_header
from iam_inventory.publish.render.items import AccountBatch, AccountItem, FindingItem, RunEnd
from iam_inventory.publish.spool import ReportFile, Spool, run_file


class StateFile:
    """The state: each finding of this run and each one carried over, then the header in front."""

    def __init__(self, folder: str, spool_bytes: int, header: StateHeader) -> None:
        self.header, self.spool_bytes = header, spool_bytes
        self.file = run_file(folder, STATE_FILE, "application/gzip", spool_bytes, flat=False)
        # zlib's default level: a tenth larger than 9, a third of its CPU (0.09 s, not 0.26, at 25k findings).
        self.gzip = gzip.GzipFile(fileobj=self.file.body.file, mode="wb", mtime=0, compresslevel=6)
        self.batch = AccountBatch(lambda text: self.gzip.write(text.encode()))

    def add_account(self, account: AccountItem) -> None:
        """The previous account's lines go in."""
        self.batch.flush()

    def add_finding(self, item: FindingItem) -> None:
        """The finding's line, unless the run resolved it."""
        if item.state is not None:
            self.batch.add(encode_entry(item.state))

    def finish(self, end: RunEnd) -> list[ReportFile]:
        """The header (with the trend) in a gzip member of its own before the findings: two members."""
        self.batch.flush()
        self.gzip.close()
        findings = self.file.body
        self.file.body = Spool(self.spool_bytes)
        header = replace(self.header, history=tuple(end.history))
        self.file.body.write(gzip.compress(encode_header(header).encode(), mtime=0))
        findings.copy_to(self.file.body)
        findings.close()
        return [self.file]
