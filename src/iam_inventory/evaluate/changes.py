"""Pure rules of comparison and trust: a run's status, whether it may become the baseline, carry-over.

Finding ids are derived from (account, user, key, rule), so the same problem keeps its id from run to
run: new and resolved are set differences of ids, restricted to the accounts this run scanned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from iam_inventory.models import AccountStatus, Finding, RunContext


class RunStatus(StrEnum):
    """How far a run can be trusted."""

    COMPLETE = "complete"
    DEGRADED = "degraded"
    FAILED = "failed"


class StateStatus(StrEnum):
    """What became of the previous run's comparison state."""

    OK = "ok"
    NONE = "none"  # first run: there is no baseline yet, so every finding is legitimately new
    UNREADABLE = "unreadable"
    INCOMPATIBLE = "incompatible"


@dataclass(frozen=True, slots=True)
class StateEntry:
    """One finding as the comparison state remembers it."""

    finding: Finding
    first_seen_at: datetime
    # Consecutive baseline runs that could not scan the finding's account.
    missed_runs: int = 0


def run_status(statuses: Mapping[AccountStatus, int], max_failed_fraction: float) -> tuple[RunStatus, str]:
    """The run's status and, unless complete, why: failed when nothing was scanned or too much failed."""
    scanned = statuses.get(AccountStatus.SCANNED, 0)
    unscanned = statuses.get(AccountStatus.FAILED, 0) + statuses.get(AccountStatus.NOT_SCANNED, 0)
    in_scope = scanned + unscanned
    if scanned == 0:
        if in_scope == 0:
            return RunStatus.FAILED, "no account was in scope"
        return RunStatus.FAILED, f"no account was scanned ({unscanned} failed or not scanned)"
    if unscanned / in_scope > max_failed_fraction:
        return (
            RunStatus.FAILED,
            f"{unscanned} of {in_scope} accounts failed or were not scanned "
            f"(more than {max_failed_fraction:.0%})",
        )
    if unscanned:
        return RunStatus.DEGRADED, f"{unscanned} of {in_scope} accounts failed or were not scanned"
    return RunStatus.COMPLETE, ""


def becomes_baseline(context: RunContext, status: RunStatus) -> bool:
    """Only a trustworthy scheduled run, or one whose event asked for it, moves latest.json."""
    if context.dry_run or context.overrides or status is RunStatus.FAILED:
        return False
    return context.trigger == "schedule" or context.baseline_requested


def carry_forward(entry: StateEntry, limit: int) -> StateEntry | None:
    """A finding of an account this run did not scan, one run older; None once it has expired."""
    missed = entry.missed_runs + 1
    return None if missed > limit else replace(entry, missed_runs=missed)


def first_seen(previous: StateEntry | None, now: datetime) -> datetime:
    """When a finding was first seen: the state's time if it knew the finding, else now."""
    return previous.first_seen_at if previous is not None else now
