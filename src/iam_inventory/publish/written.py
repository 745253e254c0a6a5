"""What a RunWriter needs (WriterOptions) and what it produces (Written)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from iam_inventory.evaluate.changes import RunStatus
from iam_inventory.evaluate.exceptions import NO_EXCEPTIONS, ExceptionSet
from iam_inventory.evaluate.finding_enrichment import EnrichmentConfig
from iam_inventory.publish.channels.sns import OwnerNews
from iam_inventory.publish.render.summary import RunSummary
from iam_inventory.publish.render.totals import RunTotals
from iam_inventory.publish.spool import SPOOL_BYTES, ReportFile


@dataclass(frozen=True, slots=True)
class WriterOptions:
    """What the files need besides the scans."""

    folder: str
    history_runs: int = 30
    console_role_name: str | None = None
    carry_over_runs: int = 3
    max_failed_fraction: float = 0.5
    # The run latest.json pointed at when this run started: {"run_id", "folder", "href"}.
    last_good: dict[str, Any] | None = None
    enrichment: EnrichmentConfig = field(default_factory=EnrichmentConfig)
    exceptions: ExceptionSet = NO_EXCEPTIONS
    spool_bytes: int = SPOOL_BYTES
    # Why the run failed before its scans were merged (fan-out: the Distributed Map failed). Such a run is
    # published as failed with this reason, whatever its accounts say, and never becomes the baseline.
    failed_because: str | None = None


@dataclass(slots=True)
class Written:
    """A run's rendered files, its summary, and what the metrics and the notification need."""

    files: list[ReportFile]
    summary: RunSummary
    # New urgent findings per owner (one notification each), owners in name order.
    urgent: list[OwnerNews] = field(default_factory=list)
    urgent_total: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    # report.json's per-account entries: one small dict an account, for the CLI's table and hints.
    accounts: list[dict[str, Any]] = field(default_factory=list)
    # The run's counts, for the run metrics.
    totals: RunTotals = field(default_factory=RunTotals)

    @property
    def status(self) -> RunStatus:
        """The run's status."""
        return self.summary.verdict.status

    @property
    def baseline(self) -> bool:
        """Whether the run becomes the baseline (latest.json, the next comparison)."""
        return self.summary.verdict.baseline
