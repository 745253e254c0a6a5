"""Which CIS AWS Foundations Benchmark control each rule evidences: versioned data, reviewed per rule.

Numbering is that of v3.0.0, section 1 (IAM), as Security Hub's CIS v3.0.0 standard lists it:
https://docs.aws.amazon.com/securityhub/latest/userguide/cis-aws-foundations-benchmark.html
1.4 no root access key; 1.5 root MFA; 1.10 MFA for console users; 1.11 no access keys created at
initial setup of console users; 1.12 credentials (passwords and keys) unused 45 days or more disabled;
1.13 one active key per user; 1.14 keys rotated every 90 days or less.
"""

from __future__ import annotations

from dataclasses import dataclass

CIS_BENCHMARK = "CIS AWS Foundations Benchmark v3.0.0"
CIS_MAPPING_VERSION = "3"  # bump when a mapping below changes; history in docs/collection.md


@dataclass(frozen=True, slots=True)
class CisMapping:
    """A rule's CIS control ("" when no control fits) and why it is (or is not) that control."""

    control: str
    title: str
    note: str


CIS_MAPPINGS: dict[str, CisMapping] = {
    "root_access_key_present": CisMapping("1.4", "Ensure no 'root' user account access key exists", ""),
    "root_mfa_disabled": CisMapping("1.5", "Ensure MFA is enabled for the 'root' user account", ""),
    "console_user_without_mfa": CisMapping(
        "1.10", "Ensure MFA is enabled for all IAM users that have a console password", ""
    ),
    "access_key_unused": CisMapping(
        "1.12", "Ensure credentials unused for 45 days or greater are disabled", ""
    ),
    "access_key_never_used": CisMapping(
        "1.12",
        "Ensure credentials unused for 45 days or greater are disabled",
        "was 1.11, which is about keys created at a console user's initial setup, not about use",
    ),
    "console_password_unused": CisMapping(
        "1.12", "Ensure credentials unused for 45 days or greater are disabled", "1.12 covers passwords"
    ),
    "user_two_active_keys": CisMapping(
        "1.13", "Ensure there is only one active access key for any single IAM user", ""
    ),
    "access_key_exposed": CisMapping(
        "", "", "new in mapping 3; no CIS control covers AWS's exposed-key quarantine"
    ),
    "access_key_too_old": CisMapping("1.14", "Ensure access keys are rotated every 90 days or less", ""),
    "inactive_access_key": CisMapping(
        "", "", "was 1.12; an inactive key is already disabled, which is what 1.12 asks: hygiene only"
    ),
}


def cis_control(rule_id: str) -> str:
    """The v3.0.0 control number a rule maps to, or "" when none fits."""
    return CIS_MAPPINGS[rule_id].control
