"""The demo's checks of what a run reported against what the estate was seeded with."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from iam_inventory.evaluate.rules import RULES
from iam_inventory.models import CredentialType
from iam_inventory_sim.estate import AccountSpec, PlantedIds

ExpectedSet = set[tuple[str, str | None, str | None, str]]
ROOT_RULES = frozenset({"root_access_key_present", "root_mfa_disabled"})
# The rules on service-specific credentials, SSH keys and signing certificates (the registry's).
OTHER_CREDENTIAL_RULES = frozenset(
    rule.rule_id
    for rule in RULES
    if rule.credential
    in (CredentialType.SERVICE_CREDENTIAL, CredentialType.SSH_KEY, CredentialType.SIGNING_CERTIFICATE)
)


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
    """(account, user, credential id, rule) of a report.json finding (an access key's id for key rules)."""
    credential = finding["access_key_id"] or finding.get("credential_id")
    return (finding["account_id"], finding["user_name"], credential, finding["rule_id"])


_KINDS = (
    ("service", "service_credentials", "service-specific credential"),
    ("ssh", "ssh_keys", "SSH public key"),
    ("cert", "signing_certificates", "signing certificate"),
)


def check_planted_credentials(
    report: dict[str, Any], estate: Sequence[AccountSpec], planted: PlantedIds, out: TextIO
) -> bool:
    """Say, for each credential planted beside access keys, whether the run found it and by which rules."""
    found: dict[tuple[str, str | None, str | None], set[str]] = {}
    for finding in (*report["findings"], *report.get("suppressed", [])):
        account_id, user_name, credential_id, rule = describe(finding)
        found.setdefault((account_id, user_name, credential_id), set()).add(rule)
    verdicts = list(_planted_verdicts(found, estate, planted))
    ok = all(good for good, _ in verdicts)
    lines = [line for _, line in verdicts]
    print("\nThe credentials planted beside access keys:", file=out)
    for line in lines:
        print(line, file=out)
    if not ok:
        print("\nCheck FAILED: a planted credential was not found as expected (above)", file=out)
        return False
    fired = {rule for rules in found.values() for rule in rules}
    missing = sorted(OTHER_CREDENTIAL_RULES - fired)
    if missing:
        print(f"\nCheck FAILED: rules on the other credentials that never fired: {missing}", file=out)
        return False
    print(
        f"Check: every planted credential was found by the rules it was planted for, and each of the "
        f"{len(OTHER_CREDENTIAL_RULES)} rules on service credentials, SSH keys and certificates fired.",
        file=out,
    )
    return True


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


def _planted_verdicts(
    found: dict[tuple[str, str | None, str | None], set[str]],
    estate: Sequence[AccountSpec],
    planted: PlantedIds,
) -> Iterator[tuple[bool, str]]:
    """(as planted, a line saying so) for root's certificate and each planted credential."""
    for account in (spec for spec in estate if spec.reachable):
        if account.root_signing_certificate_days is not None and not account.root_credentials_removed:
            rules = found.get((account.account_id, None, None), set()) & {"root_signing_certificate_active"}
            state = "found" if rules else "MISSED"
            where = f"{account.account_id} ({account.name})"
            yield bool(rules), f"  {state}: root signing certificate in {where}: {', '.join(rules) or '-'}"
        for user in account.users:
            for prefix, field, label in _KINDS:
                for index, spec in enumerate(getattr(user, field)):
                    credential_id = planted[(account.account_id, user.name, f"{prefix}:{index}")]
                    rules = found.get((account.account_id, user.name, credential_id), set())
                    what = f"{label} {credential_id} of {user.name} ({account.name})"
                    if spec.expect:
                        state = "found" if rules == set(spec.expect) else "MISSED"
                        yield (
                            rules == set(spec.expect),
                            f"  {state}: {what}: {', '.join(sorted(rules)) or '-'}",
                        )
                    elif rules:
                        yield False, f"  UNEXPECTED: {what}: {', '.join(sorted(rules))}"
                    elif prefix == "ssh" and not user.inline_policies:
                        yield (
                            True,
                            (
                                f"  not read, as designed: {what}: the user may not use CodeCommit, "
                                "so the key authenticates to nothing (docs/collection.md)"
                            ),
                        )
