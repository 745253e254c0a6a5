"""plan.json: a remediation plan as the document a reviewer reads, with each step's exact command."""

from __future__ import annotations

from typing import Any

from iam_inventory.evaluate.remediation import deactivate_key_command, delete_key_command
from iam_inventory.publish.render.report import iso
from iam_inventory_cli.plan import KeyAction, RemediationPlan
from iam_inventory_cli.plan_credentials import (
    credential_document,
)

PLAN_VERSION = 1


def plan_document(plan: RemediationPlan) -> dict[str, Any]:
    """The plan as JSON-ready data (plan.json)."""
    return {
        "plan_version": PLAN_VERSION,
        "created_at": iso(plan.created_at),
        "report_run_id": plan.run_id,
        "wait_days": plan.wait_days,
        "delete_not_before": iso(plan.delete_not_before),
        "filters": {"owner": plan.owner, "rule": plan.rule},
        "keys": [
            {
                "account_id": key.account_id,
                "user_name": key.user_name,
                "access_key_id": key.access_key_id,
                "active": key.active,
                "exposed": key.exposed,
                "last_used_known": key.last_used,
                "owner": key.owner,
                "rule_ids": list(key.rule_ids),
                "finding_ids": list(key.finding_ids),
                "steps": [
                    *(
                        [{"stage": "deactivate", "command": deactivate_key_command(*_names(key))}]
                        if key.active
                        else []
                    ),
                    {"stage": "delete", "command": delete_key_command(*_names(key))},
                ],
            }
            for key in plan.keys
        ],
        "credentials": [credential_document(action) for action in plan.credentials],
        "manual": [
            {
                "finding_id": item.finding_id,
                "rule_id": item.rule_id,
                "account_id": item.account_id,
                "user_name": item.user_name,
                "owner": item.owner,
                "text": item.text,
                "commands": list(item.commands),
            }
            for item in plan.manual
        ],
    }


def _names(key: KeyAction) -> tuple[str, str, str | None]:
    return key.user_name, key.access_key_id, key.profile
