"""Finalize a run: from every account's AccountScan to the published report, metrics and notifications.

Single mode and fan-out mode both end here, with the same AccountScans in discovery order. The scans
are streamed: once to write every file, once more (baseline runs only) to export to Security Hub.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from aws_lambda_powertools.metrics import Metrics

from iam_inventory.assume.clients import ClientFactory
from iam_inventory.compare.comparison import Comparison
from iam_inventory.compare.state import DAMAGED_STATE, load_previous, read_latest
from iam_inventory.config.exceptions_source import read_exceptions
from iam_inventory.config.settings import Settings
from iam_inventory.core.clock import Clock
from iam_inventory.core.observability import logger
from iam_inventory.core.redact import Redactor
from iam_inventory.evaluate.exceptions import ExceptionSet
from iam_inventory.evaluate.finding_enrichment import EnrichmentConfig
from iam_inventory.models import RunContext
from iam_inventory.models.scan import AccountScan
from iam_inventory.pipeline.findings_import import export_to_security_hub, import_role_opener
from iam_inventory.pipeline.outcome import RunOutcome, run_summary
from iam_inventory.pipeline.runtime import Runtime
from iam_inventory.pipeline.scan import Progress
from iam_inventory.pipeline.sinks import publish_files
from iam_inventory.publish.channels.metrics import publish_account_metrics, publish_run_metrics
from iam_inventory.publish.channels.sns import NewFindings, notify_new_findings
from iam_inventory.publish.spool import SPOOL_BYTES
from iam_inventory.publish.storage.pointers import last_good, run_folder
from iam_inventory.publish.storage.run_stores import RunStore
from iam_inventory.publish.writer import RunWriter
from iam_inventory.publish.written import WriterOptions, Written

# Every account of the run (scanned, failed, skipped, not scanned) as an AccountScan, in discovery order.
# A callable, so that a streaming finalize may read the scans more than once without holding them.
ScanSource = Callable[[], Iterator[AccountScan]]


@dataclass(frozen=True, slots=True)
class Outputs:
    """Where a run's results go besides the return value."""

    metrics: Metrics | None = None
    progress: Progress | None = None
    # How much of each output file stays in memory before it is spooled to a temporary file.
    spool_bytes: int = SPOOL_BYTES
    # Also copy findings.csv here (the CLI's `--format csv` on stdout), dry runs included.
    findings_csv: IO[bytes] | None = None
    # The CLI's --exceptions FILE; else EXCEPTIONS_S3_URI or EXCEPTIONS_PARAMETER (docs/remediation.md).
    exceptions_file: Path | None = None
    # The run failed before finalize (WriterOptions.failed_because): published as failed, never the baseline.
    failed_because: str | None = None
    # Loaded and validated when the run started; finalize reads the source again when None (fan-out).
    exceptions: ExceptionSet | None = None
    # For the Security Hub import roles: the read role's ExternalId, and the run's redactor.
    external_id: str | None = field(default=None, repr=False)
    redact: Redactor = field(default_factory=Redactor)


def open_comparison(runtime: Runtime, context: RunContext) -> Comparison:
    """The run against its baseline's comparison state, loaded (finalize_run closes it)."""
    return Comparison(load_previous(runtime.location.run_store(), context.run_id))


def finalize_run(
    context: RunContext,
    scans: ScanSource,
    runtime: Runtime,
    outputs: Outputs,
    clock: Clock,
    comparison: Comparison | None = None,
) -> RunOutcome:
    """Stream the run's AccountScans into every output, commit the run, then notify (unless dry run).

    `comparison`, from open_comparison, when the caller loaded it already; finalize closes it.
    """
    settings, factory, location = runtime.settings, runtime.factory, runtime.location
    store = location.run_store()
    comparison = comparison or open_comparison(runtime, context)
    try:
        options, baseline_folder = _writer_options(context, settings, factory, store, outputs, comparison)
        writer = RunWriter(context, comparison, options)
        for scan in scans():
            active = writer.add(scan)
            if outputs.metrics is not None and not context.dry_run:
                publish_account_metrics(scan.result, active, outputs.metrics, settings.per_account_metrics)
        header = comparison.previous.header
        written = writer.finish(clock(), header.history if header else ())
        published: dict[str, str] = {}
        if not context.dry_run and overwrites_baseline(written, options.folder, baseline_folder):
            logger.warning(
                "run not published: it is a retry of the baseline run and would overwrite its good files",
                extra={"status": written.status.value, "reason": written.summary.verdict.reason},
            )
        elif not context.dry_run:
            published = publish_files(written, location.sinks(), location.base())
            if written.baseline:
                deliver_findings(written, comparison, settings, factory, published)
                if settings.security_hub_export:
                    opener = import_role_opener(
                        factory, settings, context.run_id, outputs.external_id, outputs.redact
                    )
                    region = (factory.region, factory.partition)
                    published["securityhub"] = export_to_security_hub(
                        opener, scans(), comparison, context.started_at, options, region
                    )
        if outputs.metrics is not None and not context.dry_run:
            verdict = written.summary.verdict
            publish_run_metrics(
                written.totals, verdict.status, (verdict.new, verdict.resolved), outputs.metrics
            )
        for file in written.files:
            if outputs.findings_csv is not None and file.name == "findings.csv":
                shutil.copyfileobj(file.body.reader(), outputs.findings_csv)
            file.body.close()
    finally:
        comparison.close()
    outcome = RunOutcome(written.summary, published, tuple(written.accounts))
    logger.info("run finished", extra={"summary": run_summary(outcome)})
    return outcome


def overwrites_baseline(written: Written, folder: str, baseline_folder: str | None) -> bool:
    """A retry of the baseline run that may not become the baseline (say, it failed) must not replace it."""
    return not written.baseline and folder == baseline_folder


def _writer_options(
    context: RunContext,
    settings: Settings,
    factory: ClientFactory,
    store: RunStore,
    outputs: Outputs,
    comparison: Comparison,
) -> tuple[WriterOptions, str | None]:
    """The writer's options, and the folder latest.json names (which only a baseline run may overwrite)."""
    try:
        latest = read_latest(store)
    except DAMAGED_STATE:
        latest = None  # the comparison reports the damage; the banner just has no link
    baseline_folder = latest["folder"] if latest else None
    header = comparison.previous.header
    if latest and latest.get("run_id") == context.run_id:
        # A retry of the baseline run: the last good run before it is the one it compares with.
        latest = {"run_id": header.run_id, "folder": header.folder} if header else None
    folder = run_folder(context)
    options = WriterOptions(
        folder=folder,
        history_runs=settings.history_runs,
        console_role_name=settings.console_role_name,
        carry_over_runs=settings.carry_over_runs,
        max_failed_fraction=settings.max_failed_fraction,
        last_good=last_good(latest, folder),
        spool_bytes=outputs.spool_bytes,
        failed_because=outputs.failed_because,
        enrichment=EnrichmentConfig(
            owners=settings.owner_config,
            sla=settings.sla_policy,
            wait_days=settings.remediation_wait_days,
            partition=factory.partition,
        ),
        exceptions=outputs.exceptions
        if outputs.exceptions is not None
        else load_exceptions(settings, factory, context, outputs),
    )
    return options, baseline_folder


def load_exceptions(
    settings: Settings, factory: ClientFactory, context: RunContext, outputs: Outputs
) -> ExceptionSet:
    """The run's validated exceptions (raises before anything is scanned or written when invalid)."""
    exceptions = read_exceptions(
        settings, factory.hub_client, context.started_at.date(), outputs.exceptions_file
    )
    if exceptions.exceptions:
        logger.info(
            "exceptions loaded", extra={"source": exceptions.source, "entries": len(exceptions.exceptions)}
        )
    return exceptions


def deliver_findings(
    written: Written,
    comparison: Comparison,
    settings: Settings,
    factory: ClientFactory,
    published: dict[str, str],
) -> None:
    """After the commit of a baseline run: the SNS summary of new urgent findings."""
    if settings.notify_topic_arn and comparison.previous.comparable:
        sns = factory.hub_client("sns")
        sent = 0
        for news in written.urgent:
            new = NewFindings(
                run_id=written.summary.run_id,
                previous_run_id=written.summary.previous_run_id,
                listed=tuple(news.top.items()),
                total=news.top.seen,
                report_location=published.get("index.html") or published.get("report.json"),
                owner=news.owner,
                severities=tuple(sorted(news.severities)),
                accounts=tuple(sorted(news.accounts)),
            )
            sent += notify_new_findings(sns, settings.notify_topic_arn, new) is not None
        logger.info("notification", extra={"sent": sent, "owners": len(written.urgent)})
    elif settings.notify_topic_arn:
        logger.warning("no notification: the previous comparison state is not usable")
