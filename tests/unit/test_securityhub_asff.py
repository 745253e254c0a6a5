"""ASFF documents: the affected account, the rule's CIS control or none, and the effective severity."""

from __future__ import annotations

from dataclasses import replace

import pytest

from iam_inventory.evaluate.rules import RULES
from iam_inventory.models import Severity
from iam_inventory.publish.channels.securityhub import (
    ASFF_BEST_PRACTICE_TYPE,
    ASFF_TYPE,
    CIS_STANDARD,
    ImportTarget,
    asff_finding,
)
from tests.builders import NOW
from tests.unit.test_exceptions import make_finding

TARGET = ImportTarget("111111111111", "eu-west-1", "aws")


@pytest.mark.parametrize(
    ("rule", "control", "types", "requirements"),
    [
        ("access_key_too_old", "1.14", [ASFF_TYPE], [f"{CIS_STANDARD}/1.14"]),
        ("access_key_exposed", "", [ASFF_BEST_PRACTICE_TYPE], []),
        ("inactive_access_key", "", [ASFF_BEST_PRACTICE_TYPE], []),
    ],
)
def test_only_a_rule_with_a_cis_control_is_filed_as_a_cis_check(rule, control, types, requirements):
    # Given a finding of a rule with (or without) a CIS control, raised to critical for a privileged user
    finding = replace(make_finding(rule=rule), cis_control=control, severity=Severity.CRITICAL)
    # When it is written as ASFF for its own account
    document = asff_finding(finding, TARGET, {}, NOW, NOW)
    # Then its type and requirements follow the control, and the severity is the effective one
    assert (document["Types"], document["Compliance"]["RelatedRequirements"]) == (types, requirements)
    assert (document["AwsAccountId"], document["Severity"]) == ("111111111111", {"Label": "CRITICAL"})
    title = RULES[rule].title
    assert document["Title"] == f"{title} (account 111111111111)"
