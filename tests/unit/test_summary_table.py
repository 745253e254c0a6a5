"""The CLI's summary table: findings by rule line up, whatever the longest rule id."""

from __future__ import annotations

from iam_inventory.evaluate.rules import RULES
from iam_inventory_cli.tables import render_summary_table


def test_findings_by_rule_counts_line_up_in_one_column_for_every_registered_rule():
    # Given a report whose summary counts every registered rule, the longest id included
    by_rule = {rule.rule_id: index for index, rule in enumerate(RULES)}
    report = {
        "run": {"run_id": "r", "dry_run": True, "status": "complete"},
        "accounts": [],
        "summary": {
            "accounts": {"expected": 0, "scanned": 0, "failed": 0, "skipped": 0, "not_scanned": 0},
            "users": 0,
            "access_keys": 0,
            "active_access_keys": 0,
            "api_calls": 0,
            "findings": {"total": sum(by_rule.values()), "by_severity": {}, "by_rule": by_rule},
        },
    }
    # When the table is rendered
    text = render_summary_table(report)
    # Then each rule's line ends in its count, and every count ends in the same column
    lines = text.split("Findings by rule", 1)[1].splitlines()[1:]
    assert [line.split() for line in lines] == [[rule_id, str(count)] for rule_id, count in by_rule.items()]
    assert len({len(line) for line in lines}) == 1
    assert all(line.split()[0] != line.strip() for line in lines)
