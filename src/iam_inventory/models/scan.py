"""The unit of work of a run: one account assumed, collected and evaluated (single and fan-out alike)."""

from __future__ import annotations

from dataclasses import dataclass

from iam_inventory.models import AccountResult, Finding

ACCOUNT_SCAN_SCHEMA_VERSION = "1.2"


@dataclass(frozen=True, slots=True)
class AccountScan:
    """Everything one account contributed to a run: its status and inventory (in `result`) and findings."""

    run_id: str
    result: AccountResult
    findings: tuple[Finding, ...] = ()
    schema_version: str = ACCOUNT_SCAN_SCHEMA_VERSION
