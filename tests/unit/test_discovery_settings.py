"""Organizations discovery settings and the pure parts of discovery (no AWS)."""

from __future__ import annotations

import pytest

from iam_inventory.config.filters import AccountFilters
from iam_inventory.config.settings import ConfigError, Settings
from iam_inventory.discover.discovery import Discovery, DiscoveryError
from iam_inventory.discover.filters import OrganizationAccount, skip_reason
from iam_inventory.models import Account, AccountResult, AccountStatus

HUB = "123456789012"


def test_discovery_settings_parse_lists_and_tags():
    # Given the variables as the template sets them
    settings = Settings.from_env(
        {
            "ACCOUNT_SOURCE": "organizations",
            "INCLUDE_OUS": "ou-ab12-11111111, r-ab12",
            "EXCLUDE_OUS": "ou-ab12-22222222",
            "EXCLUDE_ACCOUNTS": "111111111111 222222222222",
            "INCLUDE_ACCOUNT_TAGS": "env=prod, cost center=Data Platform",
            "EXCLUDE_ACCOUNT_TAGS": "lifecycle=",
            "SCAN_HUB_ACCOUNT": "true",
            "ORGANIZATION_READER_ROLE_ARN": "arn:aws:iam::999999999999:role/org/OrganizationReader",
        }
    )
    # Then they become plain filters: tag values may hold spaces, an empty value matches an empty tag
    assert settings.account_filters == AccountFilters(
        include_ous=("ou-ab12-11111111", "r-ab12"),
        exclude_ous=frozenset({"ou-ab12-22222222"}),
        exclude_accounts=frozenset({"111111111111", "222222222222"}),
        include_tags=frozenset({("env", "prod"), ("cost center", "Data Platform")}),
        exclude_tags=frozenset({("lifecycle", "")}),
        scan_hub_account=True,
    )
    assert settings.organization_reader_role_arn == "arn:aws:iam::999999999999:role/org/OrganizationReader"


def test_discovery_defaults_scan_the_whole_organization_but_not_the_hub():
    assert Settings.from_env({}).account_filters == AccountFilters()
    assert Settings.from_env({}).scan_hub_account is False


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("INCLUDE_OUS", "Workloads", "must be an OU id"),
        ("EXCLUDE_OUS", "ou-AB12-xyz", "must be an OU id"),
        ("EXCLUDE_ACCOUNTS", "12345", "must be a 12-digit AWS account ID"),
        ("INCLUDE_ACCOUNT_TAGS", "env", "must be key=value"),
        ("EXCLUDE_ACCOUNT_TAGS", "=prod", "must be key=value"),
        ("ORGANIZATION_READER_ROLE_ARN", "OrganizationReader", "must be an IAM role ARN"),
        ("SCAN_HUB_ACCOUNT", "maybe", "valid boolean"),
    ],
)
def test_invalid_discovery_setting_fails_naming_the_variable(variable, value, fragment):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value})
    assert variable in str(caught.value)
    assert fragment in str(caught.value)


def test_an_ou_cannot_be_both_included_and_excluded():
    with pytest.raises(ConfigError, match="INCLUDE_OUS and EXCLUDE_OUS both name"):
        Settings.from_env({"INCLUDE_OUS": "ou-ab12-11111111", "EXCLUDE_OUS": "ou-ab12-11111111"})


def _found(
    account_id: str, state: str = "ACTIVE", ou_ids: tuple[str, ...] = ("r-ab12",)
) -> OrganizationAccount:
    return OrganizationAccount(Account(account_id, "n", "Root"), state, ou_ids)


@pytest.mark.parametrize(
    ("item", "filters", "expected"),
    [
        (_found("111111111111"), AccountFilters(), None),
        (
            _found("111111111111", "SUSPENDED"),
            AccountFilters(),
            ("AccountNotActive", "account state is SUSPENDED"),
        ),
        (
            _found("111111111111", "PENDING_CLOSURE"),
            AccountFilters(),
            ("AccountNotActive", "account state is PENDING_CLOSURE"),
        ),
        (
            _found(HUB),
            AccountFilters(),
            ("HubAccount", "the hub account is scanned only with SCAN_HUB_ACCOUNT=true"),
        ),
        (_found(HUB), AccountFilters(scan_hub_account=True), None),
        # Explicit exclusions win over the account's state, so the report says why it was left out.
        (
            _found("111111111111", "SUSPENDED"),
            AccountFilters(exclude_accounts=frozenset({"111111111111"})),
            ("ExcludedAccount", "account is listed in EXCLUDE_ACCOUNTS"),
        ),
        (
            _found("111111111111", ou_ids=("r-ab12", "ou-ab12-11111111", "ou-ab12-22222222")),
            AccountFilters(exclude_ous=frozenset({"ou-ab12-11111111"})),
            ("ExcludedOU", "account is under ou-ab12-11111111, listed in EXCLUDE_OUS"),
        ),
    ],
)
def test_skip_reason_without_tag_filters(item, filters, expected):
    # No tag filter: Organizations is never asked for tags, so no client is needed.
    assert skip_reason(item, filters, HUB, organizations=None) == expected


def test_discovery_refuses_an_account_twice():
    account = Account("111111111111")
    skipped = AccountResult(account=account, status=AccountStatus.SKIPPED, error_code="HubAccount")
    with pytest.raises(DiscoveryError, match="more than once"):
        Discovery(to_scan=(account,), skipped=(skipped,))
