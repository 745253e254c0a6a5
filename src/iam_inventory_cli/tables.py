"""Text rendering for the terminal: the summary table, and the exit code a finished run maps to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TextIO

from iam_inventory.models import AccountStatus
from iam_inventory.pipeline.outcome import RunOutcome

EXIT_OK = 0
EXIT_ACCOUNT_FAILED = 1
EXIT_BAD_INPUT = 2


def exit_code(accounts: Mapping[str, int]) -> int:
    """0 when every account of a run summary was scanned or skipped, 1 when any failed or was not scanned."""
    unfinished = (AccountStatus.FAILED.value, AccountStatus.NOT_SCANNED.value)
    return EXIT_ACCOUNT_FAILED if any(accounts.get(status, 0) for status in unfinished) else EXIT_OK


def print_summary(outcome: RunOutcome, out: TextIO) -> None:
    """The summary table of a finished run, then where its files went."""
    out.write(render_summary_table(outcome.report))
    for name, location in outcome.published.items():
        print(f"wrote {name}: {location}", file=out)


def render_summary_table(report: dict[str, Any]) -> str:
    """A per-account table, totals, changes since the last run and findings by rule, for humans."""
    summary = report["summary"]
    run = report["run"]
    mode = "dry run" if run["dry_run"] else "published"
    lines = [f"\nRun {run['run_id']}  ({mode}, {run.get('status', 'complete')})"]
    header = f"{'ACCOUNT':<14}{'NAME':<20}{'STATUS':<13}{'USERS':>6}{'KEYS':>6}{'FINDINGS':>10}  ERROR"
    lines += [header, "-" * len(header)]
    for account in report["accounts"]:
        lines.append(
            f"{account['account_id']:<14}{account['name'][:19]:<20}{account['status']:<13}"
            f"{account['users']:>6}{account['access_keys']:>6}{account['findings']:>10}  "
            f"{account['error_code'] or ''}"
        )
    accounts = summary["accounts"]
    lines.append(
        f"\nAccounts: {accounts['expected']} expected, {accounts['scanned']} scanned, "
        f"{accounts['failed']} failed, {accounts['skipped']} skipped, {accounts['not_scanned']} not scanned"
    )
    lines.append(
        f"Users: {summary['users']}  access keys: {summary['access_keys']} "
        f"({summary['active_access_keys']} active)  API calls: {summary['api_calls']}"
    )
    severities = ", ".join(f"{count} {name}" for name, count in summary["findings"]["by_severity"].items())
    lines.append(f"Findings: {summary['findings']['total']} ({severities})")
    changes = report.get("changes")
    if changes is not None:
        since = f"run {changes['previous_run_id']}" if changes["previous_run_id"] else "nothing (first run)"
        if changes["new"] is None:
            lines.append("Changes: unknown (the previous comparison state is unreadable or incompatible)")
        else:
            lines.append(f"Changes since {since}: {changes['new']} new, {changes['resolved']} resolved")
    lines.append(f"\nFindings by rule ({summary['findings']['total']} total):")
    by_rule = summary["findings"]["by_rule"]
    # The column fits the longest rule id (root_signing_certificate_active is 31 characters).
    width = max((len(rule_id) + 2 for rule_id in by_rule), default=0)
    lines += [f"  {rule_id:<{width}}{count:>5}" for rule_id, count in by_rule.items()]
    return "\n".join(lines) + "\n"
