"""Render a remediation plan as a bash script: two stages, every change guarded by a fresh last-use check."""

from __future__ import annotations

import shlex

from iam_inventory.evaluate.remediation import deactivate_key_command, delete_key_command
from iam_inventory.publish.render.report import iso
from iam_inventory_cli.plan import KeyAction, RemediationPlan, safe_text
from iam_inventory_cli.plan_credentials import PRELUDE as CREDENTIAL_PRELUDE
from iam_inventory_cli.plan_credentials import CredentialAction

_PRELUDE = r"""set -euo pipefail

fail() { printf 'plan: %s\n' "$*" >&2; exit 1; }

in_account() {
  local expected=$1 actual
  shift
  actual=$(aws sts get-caller-identity --query Account --output text "$@") ||
    fail "cannot read the caller identity"
  [[ "$actual" == "$expected" ]] || fail "the credentials are for account $actual, not $expected: stopping"
}

# IAM reports last use in UTC. Its first 19 characters (YYYY-MM-DDTHH:MM:SS) compare as text whether the
# AWS CLI prints 2026-11-30T10:00:00+00:00 (v2 default, cli_timestamp_format=iso8601) or the wire's ...Z.
# https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-parameters-types.html#parameter-type-timestamp
last_use() {
  local key=$1
  shift
  aws iam get-access-key-last-used --access-key-id "$key" \
    --query 'AccessKeyLastUsed.LastUsedDate' --output text "$@"
}

not_used_since() {
  local key=$1 known=$2 last
  shift 2
  last=$(last_use "$key" "$@") || fail "cannot read the last use of $key"
  if [[ "$last" != "None" && ( "$known" == "never" || "${last:0:19}" > "$known" ) ]]; then
    fail "key $key was used at $last, after the last use this plan is based on ($known): stopping"
  fi
}

# For a key AWS found exposed: a use since the plan's data may be the attacker's, so it is reported, and the
# key is deactivated (or deleted) all the same.
report_last_use() {
  local key=$1 known=$2 last
  shift 2
  last=$(last_use "$key" "$@") || last="unreadable"
  printf 'plan: exposed key %s last used at %s (plan based on %s); going ahead\n' "$key" "$last" "$known" >&2
}

still_inactive() {
  local user=$1 key=$2 status
  shift 2
  status=$(aws iam list-access-keys --user-name "$user" \
    --query "AccessKeyMetadata[?AccessKeyId=='$key'].Status" --output text "$@") ||
    fail "cannot list the keys of $user"
  [[ "$status" == "Inactive" ]] || fail "key $key is '$status', not Inactive: stopping"
}
"""


def render_plan_script(plan: RemediationPlan) -> str:
    """The plan as a bash script: `plan.sh deactivate` now, `plan.sh delete` after the waiting period."""
    not_before = plan.delete_not_before.isoformat()[:19]
    lines = [
        "#!/usr/bin/env bash",
        _comment(f"iam-inventory remediation plan, made {iso(plan.created_at)} from run {plan.run_id}."),
        _comment(
            f"Filters: owner={plan.owner or '(any)'} rule={plan.rule or '(any)'}. Review it before running."
        ),
        "#   ./plan.sh deactivate   stage 1: deactivate the keys (undo: update-access-key --status Active)",
        f"#   ./plan.sh delete       stage 2, not before {not_before} UTC: delete them",
        "# Every change first reads the key's last use again: a use after the one this plan is based on",
        "# stops the script, except for a key AWS found exposed (EXPOSED below), whose use is only printed.",
        "# Service-specific credentials, SSH keys and signing certificates have no last use in IAM: each",
        "# change first reads the credential's status again (Active to deactivate, Inactive to delete).",
        "# Set the credentials for each account (or run `plan --profile-format`).",
        _PRELUDE + CREDENTIAL_PRELUDE,
        f"readonly NOT_BEFORE={shlex.quote(not_before)}",
        "",
        "stage_deactivate() {",
        "  :",
    ]
    for key in plan.keys:
        if not key.active:
            continue
        lines += [
            "  " + _comment(_describe(key)),
            f"  in_account {_args(key.account_id, profile=key.profile)}",
            _use_check(key),
            "  " + deactivate_key_command(key.user_name, key.access_key_id, key.profile),
            f"  printf 'plan: deactivated %s of %s in %s\\n' {_where(key)}",
        ]
    for action in plan.credentials:
        if action.active:
            lines += _credential_lines(action, "Active", action.deactivate_command(), "deactivated")
    lines += [
        "}",
        "",
        "stage_delete() {",
        "  local now",
        "  now=$(date -u +%Y-%m-%dT%H:%M:%S)",
        '  [[ "$now" > "$NOT_BEFORE" ]] || fail "stage 2 waits until $NOT_BEFORE UTC (now $now)"',
    ]
    for key in plan.keys:
        lines += [
            "  " + _comment(_describe(key)),
            f"  in_account {_args(key.account_id, profile=key.profile)}",
            _use_check(key),
            f"  still_inactive {_args(key.user_name, key.access_key_id, profile=key.profile)}",
            "  " + delete_key_command(key.user_name, key.access_key_id, key.profile),
            f"  printf 'plan: deleted %s of %s in %s\\n' {_where(key)}",
        ]
    for action in plan.credentials:
        lines += _credential_lines(action, action.deletable, action.delete_command(), "deleted")
    lines += ["}", "", "# Done by hand (not run by this script; see plan.json):"]
    for item in plan.manual:
        lines.append(_comment(f"{item.account_id} {item.user_name or '(root)'} {item.rule_id}: {item.text}"))
        lines += [_comment(f"  {command}") for command in item.commands]
    lines += [
        "",
        'case "${1:-}" in',
        "  deactivate) stage_deactivate ;;",
        "  delete) stage_delete ;;",
        "  *) printf 'usage: %s deactivate|delete\\n' \"$0\" >&2; exit 2 ;;",
        "esac",
        "",
    ]
    return "\n".join(lines)


def _credential_lines(action: CredentialAction, wanted: str, command: str, done: str) -> list[str]:
    """One credential's step: account check, status guard (no last use exists for it), the change."""
    where = _args(action.credential_id, action.user_name, action.account_id)
    described = (
        f"{action.account_id} {action.user_name} {action.credential_type.value} {action.credential_id} "
        f"({', '.join(action.rule_ids)}); owner {action.owner}"
    )
    return [
        "  " + _comment(described),
        f"  in_account {_args(action.account_id, profile=action.profile)}",
        f"  expect_status {_args(*action.guard(wanted), profile=action.profile)}",
        "  " + command,
        f"  printf 'plan: {done} %s of %s in %s\\n' {where}",
    ]


def _use_check(key: KeyAction) -> str:
    check = "report_last_use" if key.exposed else "not_used_since"
    return f"  {check} {_args(key.access_key_id, key.last_used, profile=key.profile)}"


def _describe(key: KeyAction) -> str:
    return (
        ("EXPOSED " if key.exposed else "")
        + f"{key.account_id} {key.user_name} {key.access_key_id} ({', '.join(key.rule_ids)}); "
        f"owner {key.owner}; last use known: {key.last_used}"
    )


def _where(key: KeyAction) -> str:
    return _args(key.access_key_id, key.user_name, key.account_id)


def _args(*values: str, profile: str | None = None) -> str:
    return shlex.join([*values, *(["--profile", profile] if profile else [])])


def _comment(text: str) -> str:
    # A newline inside a value would end the comment and run the rest as a command.
    return "# " + safe_text(text)
