"""Settings added for owners, SLAs, exceptions and remediation plans."""

from __future__ import annotations

import pytest

from iam_inventory.config.settings import ConfigError, Settings
from iam_inventory.evaluate.owners import OwnerConfig
from iam_inventory.models import Severity


def test_defaults():
    settings = Settings.from_env({})
    assert settings.owner_config == OwnerConfig(tag_keys=("owner",), ou_owners={})
    assert settings.sla_policy.days == {
        Severity.CRITICAL: 7,
        Severity.HIGH: 30,
        Severity.MEDIUM: 90,
        Severity.LOW: 180,
    }
    assert (settings.exceptions_s3_uri, settings.exceptions_parameter, settings.remediation_wait_days) == (
        None,
        None,
        14,
    )


def test_values_from_the_environment():
    settings = Settings.from_env(
        {
            "OWNER_TAG_KEYS": "owner, Team",
            "OU_OWNERS": '{"Root/Workloads": "team-x", "Root/Workloads/Payments": "team-pay"}',
            "SLA_DAYS": '{"critical": 3, "high": 14}',
            "EXCEPTIONS_PARAMETER": "/iam-inventory/exceptions",
            "REMEDIATION_WAIT_DAYS": "30",
        }
    )
    assert settings.owner_config == OwnerConfig(
        ("owner", "Team"), {"Root/Workloads": "team-x", "Root/Workloads/Payments": "team-pay"}
    )
    assert (settings.sla_policy.days[Severity.CRITICAL], settings.sla_policy.days[Severity.HIGH]) == (3, 14)
    assert (settings.exceptions_parameter, settings.remediation_wait_days) == (
        "/iam-inventory/exceptions",
        30,
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"SLA_DAYS": '{"critical": 40}'},
            "environment variable SLA_DAYS: critical: 40 days is longer than high (30)",
        ),
        ({"SLA_DAYS": "{"}, "environment variable SLA_DAYS: must be a JSON object"),
        (
            {"OU_OWNERS": '{"Root/A": ""}'},
            "environment variable OU_OWNERS.Root/A: String should have at least 1 character",
        ),
        ({"OU_OWNERS": "[1]"}, "environment variable OU_OWNERS: Input should be a valid dictionary"),
        (
            {"EXCEPTIONS_S3_URI": "https://bucket/key"},
            "environment variable EXCEPTIONS_S3_URI: must be s3://bucket/key",
        ),
        (
            {"EXCEPTIONS_S3_URI": "s3://bucket/key", "EXCEPTIONS_PARAMETER": "/p"},
            "EXCEPTIONS_S3_URI and EXCEPTIONS_PARAMETER are exclusive: set one",
        ),
        (
            {"REMEDIATION_WAIT_DAYS": "0"},
            "environment variable REMEDIATION_WAIT_DAYS: Input should be greater than or equal to 1",
        ),
    ],
)
def test_invalid_values_name_the_variable(environ, message):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(environ)
    assert message in str(caught.value)
