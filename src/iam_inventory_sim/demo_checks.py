"""The demo's checks of what a run reported against what the estate was seeded with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TextIO

from iam_inventory_sim.estate import AccountSpec

ExpectedSet = set[tuple[str, str | None, str | None, str]]
ROOT_RULES = frozenset({"root_access_key_present", "root_mfa_disabled"})


def check_changes(
    report: dict[str, Any], expected_new: ExpectedSet, expected_resolved: ExpectedSet, out: TextIO
) -> bool:
    """Print a run's new and resolved findings (its report.json); True when they are the expected ones."""
    changes = report["changes"]
    new_ids = set(changes["new_finding_ids"])
    new = {describe(f) for f in report["findings"] if f["finding_id"] in new_ids}
    resolved = {describe(f) for f in changes["resolved_findings"]}
    for label, items in (("New", new), ("Resolved", resolved)):
        for item in sorted(items, key=str):
            print(f"  {label}: {item[3]} in {item[0]} ({item[1] or 'root'})", file=out)
    if (new, resolved) != (expected_new, expected_resolved):
        print(f"\nCheck FAILED: new {sorted(new, key=str)}, resolved {sorted(resolved, key=str)}", file=out)
        return False
    print(
        f"\nCheck: the run reports exactly the {len(new)} new and {len(resolved)} resolved findings "
        "the changes should cause.",
        file=out,
    )
    return True


def describe(finding: dict[str, Any]) -> tuple[str, str | None, str | None, str]:
    """(account, user, access key id, rule) of a report.json finding."""
    return (finding["account_id"], finding["user_name"], finding["access_key_id"], finding["rule_id"])


def check_root_credentials_removed(
    report: dict[str, Any], estate: Sequence[AccountSpec], out: TextIO
) -> bool:
    """Each account seeded with root credentials removed centrally says so and has no root finding."""
    inventory = {entry["account_id"]: entry for entry in report["inventory"]}
    for account in (spec for spec in estate if spec.root_credentials_removed and spec.reachable):
        entry = inventory.get(account.account_id, {})
        rules = sorted(
            finding["rule_id"]
            for finding in (*report["findings"], *report.get("suppressed", []))
            if finding["account_id"] == account.account_id and finding["rule_id"] in ROOT_RULES
        )
        removed = entry.get("root_credentials_removed")
        if not removed or rules:
            print(
                f"\nCheck FAILED: {account.account_id} ({account.name}) had its root credentials removed "
                f"centrally, but the report shows root_credentials_removed={removed}, root findings {rules}",
                file=out,
            )
            return False
        print(
            f"Check: {account.account_id} ({account.name}) had its root credentials removed centrally (AWS "
            "Organizations): its root has no password, keys or MFA, so the report shows "
            "root_credentials_removed and no root finding, though its root row says mfa_active=false.",
            file=out,
        )
    return True
