"""The CIS AWS Foundations Benchmark controls the rules evidence: versioned data, reviewed per rule.

Numbering is that of v3.0.0, section 1 (IAM), as Security Hub's CIS v3.0.0 standard lists it:
https://docs.aws.amazon.com/securityhub/latest/userguide/cis-aws-foundations-benchmark.html
1.4 no root access key; 1.5 root MFA; 1.10 MFA for console users; 1.11 no access keys created at
initial setup of console users; 1.12 credentials (passwords and keys) unused 45 days or more disabled;
1.13 one active key per user; 1.14 keys rotated every 90 days or less.
Each rule record (evaluate/registry.py) holds its CisMapping, with the review note when it needs one.
"""

from __future__ import annotations

from dataclasses import dataclass

CIS_BENCHMARK = "CIS AWS Foundations Benchmark v3.0.0"
CIS_MAPPING_VERSION = "3"  # bump when a rule's mapping changes; history in docs/collection.md


@dataclass(frozen=True, slots=True)
class CisMapping:
    """A rule's CIS control ("" when no control fits) and why it is (or is not) that control."""

    control: str
    title: str
    note: str


CIS_1_4 = CisMapping("1.4", "Ensure no 'root' user account access key exists", "")
CIS_1_5 = CisMapping("1.5", "Ensure MFA is enabled for the 'root' user account", "")
CIS_1_10 = CisMapping("1.10", "Ensure MFA is enabled for all IAM users that have a console password", "")
CIS_1_12 = CisMapping("1.12", "Ensure credentials unused for 45 days or greater are disabled", "")
CIS_1_13 = CisMapping("1.13", "Ensure there is only one active access key for any single IAM user", "")
CIS_1_14 = CisMapping("1.14", "Ensure access keys are rotated every 90 days or less", "")
CIS_NONE_FOR_OTHER_CREDENTIALS = CisMapping(
    "", "", "no CIS v3.0.0 control covers this credential kind (1.12-1.14 are access keys and passwords)"
)
