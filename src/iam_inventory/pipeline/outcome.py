"""What a finalized run amounts to (RunOutcome), and the summary the handler returns and the logs show."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from iam_inventory.evaluate.changes import RunStatus
from iam_inventory.models import AccountStatus, RunContext
from iam_inventory.publish.render.summary import RunSummary


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What a finalized run amounts to: small, whatever the size of the estate."""

    summary: RunSummary
    published: dict[str, str] = field(default_factory=dict)
    # report.json's per-account entries: one small dict an account.
    accounts: tuple[dict[str, Any], ...] = ()

    @property
    def context(self) -> RunContext:
        """The run."""
        return self.summary.context

    @property
    def status(self) -> RunStatus:
        """How far the run can be trusted."""
        return self.summary.verdict.status

    @property
    def status_reason(self) -> str:
        """Why the run is degraded or failed."""
        return self.summary.verdict.reason

    @property
    def baseline(self) -> bool:
        """Whether the run became the baseline."""
        return self.summary.verdict.baseline

    @property
    def folder(self) -> str:
        """The run's folder under the report root."""
        return self.summary.folder

    @property
    def changes(self) -> dict[str, Any]:
        """The run summary's `changes`: what it compared with, new and resolved (None when unknown)."""
        changes = self.summary.verdict
        return {
            "previous_run_id": self.summary.previous_run_id,
            "new": changes.new,
            "resolved": changes.resolved,
        }

    @property
    def comparison_state(self) -> dict[str, str]:
        """What became of the previous run's comparison state."""
        return {"status": self.summary.state.value, "detail": self.summary.state_detail}

    @property
    def report(self) -> dict[str, Any]:
        """report.json without its inventory and findings: run, summary, changes and the account entries."""
        return {**self.summary.report(), "accounts": list(self.accounts)}

    @property
    def failed_accounts(self) -> list[dict[str, Any]]:
        """Accounts the run could not scan (failed or not scanned), with their error code."""
        return [
            {"account_id": entry["account_id"], "error_code": entry["error_code"]}
            for entry in self.accounts
            if entry["status"] not in (AccountStatus.SCANNED.value, AccountStatus.SKIPPED.value)
        ]

    @property
    def skipped_accounts(self) -> list[dict[str, Any]]:
        """Accounts deliberately not scanned (the hub, a suspended account), with the reason code."""
        return [
            {"account_id": entry["account_id"], "reason": entry["error_code"]}
            for entry in self.accounts
            if entry["status"] == AccountStatus.SKIPPED.value
        ]


def run_summary(outcome: RunOutcome) -> dict[str, Any]:
    """What the handler returns and the logs show: status, counts, changes and where the report landed."""
    return {
        "run_id": outcome.context.run_id,
        "dry_run": outcome.context.dry_run,
        "status": outcome.status.value,
        "status_reason": outcome.status_reason,
        "baseline": outcome.baseline,
        "folder": outcome.folder,
        **outcome.summary.counts.to_dict(),
        # Accounts the run could not scan; deliberate skips (hub, suspended) are listed apart.
        "failed_accounts": outcome.failed_accounts,
        "skipped_accounts": outcome.skipped_accounts,
        "changes": outcome.changes,
        "comparison_state": outcome.comparison_state,
        "published": dict(outcome.published),
    }
