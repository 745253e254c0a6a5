"""Run metrics as EMF: totals on the shared Metrics, one small blob per account as it is written."""

from __future__ import annotations

from aws_lambda_powertools.metrics import EphemeralMetrics, Metrics, MetricUnit, single_metric

from iam_inventory.core.observability import logger
from iam_inventory.evaluate.changes import RunStatus
from iam_inventory.evaluate.rules import RULE_IDS
from iam_inventory.models import SEVERITY_ORDER, AccountResult, AccountStatus, Severity
from iam_inventory.publish.render.totals import RunTotals


def publish_account_metrics(
    item: AccountResult, findings: int, metrics: Metrics, with_dimension: bool = False
) -> None:
    """One account's figures: always a structured log record (free, queryable with Logs Insights), and
    only when `with_dimension` an EMF blob with an AccountId dimension (each one a billed custom metric)."""
    inventory = item.inventory
    users = len(inventory.users) if inventory is not None else 0
    active = sum(1 for user in inventory.users for key in user.access_keys if key.active) if inventory else 0
    failed = int(item.status is AccountStatus.FAILED)
    logger.info(
        "account figures",
        extra={
            "account_id": item.account.account_id,
            "status": item.status.value,
            "users": users,
            "active_access_keys": active,
            "findings": findings,
            "scan_failed": failed,
        },
    )
    if not with_dimension:
        return
    per_account = EphemeralMetrics(namespace=metrics.namespace, service=metrics.service)
    per_account.add_dimension(name="AccountId", value=item.account.account_id)
    per_account.add_metric("ScanFailed", MetricUnit.Count, failed)
    if inventory is not None:
        per_account.add_metric("Users", MetricUnit.Count, users)
        per_account.add_metric("ActiveAccessKeys", MetricUnit.Count, active)
        per_account.add_metric("Findings", MetricUnit.Count, findings)
    per_account.flush_metrics()


def publish_run_metrics(
    totals: RunTotals, status: RunStatus, changes: tuple[int | None, int | None], metrics: Metrics
) -> None:
    """Run totals, new/resolved when known, and the run's status (RunFailed drives an alarm)."""
    statuses = totals.statuses
    metrics.add_metric("AccountsExpected", MetricUnit.Count, totals.expected)
    metrics.add_metric("AccountsScanned", MetricUnit.Count, statuses[AccountStatus.SCANNED])
    metrics.add_metric("AccountsFailed", MetricUnit.Count, statuses[AccountStatus.FAILED])
    metrics.add_metric("AccountsSkipped", MetricUnit.Count, statuses[AccountStatus.SKIPPED])
    metrics.add_metric("AccountsNotScanned", MetricUnit.Count, statuses[AccountStatus.NOT_SCANNED])
    metrics.add_metric("Users", MetricUnit.Count, totals.users)
    metrics.add_metric("ActiveAccessKeys", MetricUnit.Count, totals.active_access_keys)
    metrics.add_metric("Findings", MetricUnit.Count, totals.findings)
    # Suppressed findings are in neither count: an accepted risk never drives an alarm.
    metrics.add_metric("OverdueCriticalFindings", MetricUnit.Count, totals.overdue[Severity.CRITICAL])
    new, resolved = changes
    if new is not None and resolved is not None:
        metrics.add_metric("NewFindings", MetricUnit.Count, new)
        metrics.add_metric("ResolvedFindings", MetricUnit.Count, resolved)
    metrics.add_metric("RunFailed", MetricUnit.Count, int(status is RunStatus.FAILED))
    # The missed-run alarm watches RunCompleted: a failed run is not a completed one.
    if status is not RunStatus.FAILED:
        metrics.add_metric("RunCompleted", MetricUnit.Count, 1)
    _by_dimension(
        metrics, "FindingsByRule", "RuleId", {rule_id: totals.by_rule[rule_id] for rule_id in RULE_IDS}
    )
    overdue = {severity.value: totals.overdue[severity] for severity in SEVERITY_ORDER}
    _by_dimension(metrics, "OverdueFindings", "Severity", overdue)


def _by_dimension(metrics: Metrics, name: str, dimension: str, values: dict[str, int]) -> None:
    """One EMF blob per value, each with its own dimension (the shared Metrics allows one set of them)."""
    # The service dimension is set here, not left to POWERTOOLS_SERVICE_NAME: alarms match on it.
    service = {"service": metrics.service} if metrics.service else None
    for key, value in values.items():
        with single_metric(
            name=name,
            unit=MetricUnit.Count,
            value=value,
            namespace=metrics.namespace,
            default_dimensions=service,
        ) as metric:
            metric.add_dimension(name=dimension, value=key)
