"""Settings: one validated object from the environment; errors name the variable, never echo secrets."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from iam_inventory.config.settings import AccountSource, ConfigError, RetryMode, Settings
from iam_inventory.config.validation import describe_validation_error


def test_defaults_are_the_documented_ones():
    settings = Settings.from_env({})
    assert settings.role_name == "IAMListRole"
    assert settings.account_source is AccountSource.STATIC
    assert (settings.max_key_age_days, settings.unused_key_days, settings.never_used_grace_days) == (
        90,
        45,
        7,
    )
    assert settings.workers == 0  # sized per run: config/concurrency.py
    assert settings.retry_mode is RetryMode.ADAPTIVE
    assert settings.report_prefix == "iam-inventory"


def test_account_ids_accept_commas_and_spaces():
    settings = Settings.from_env({"ACCOUNT_IDS": "111111111111, 222222222222\n333333333333"})
    assert settings.account_ids == ("111111111111", "222222222222", "333333333333")


def test_empty_values_mean_unset():
    assert Settings.from_env({"REPORT_BUCKET": "", "EXTERNAL_ID_PARAMETER": ""}).report_bucket is None


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("MAX_KEY_AGE_DAYS", "0", "greater than or equal to 1"),
        ("MAX_KEY_AGE_DAYS", "ninety", "valid integer"),
        ("WORKERS", "500", "less than or equal to 64"),
        ("ACCOUNT_IDS", "1234", "must be a 12-digit AWS account ID"),
        ("ACCOUNT_SOURCE", "ldap", "'static' or 'organizations'"),
        ("RETRY_MODE", "legacy", "'standard' or 'adaptive'"),
        ("ROLE_NAME", "bad role!", "should match pattern"),
        ("REPORT_BUCKET", "Not_A_Bucket", "should match pattern"),
        ("AWS_REGION", "moon-1", "should match pattern"),
    ],
)
def test_invalid_value_fails_naming_the_variable(variable, value, fragment):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value})
    message = str(caught.value)
    assert variable in message
    assert fragment in message


def test_plain_external_id_is_refused_inside_lambda_and_never_echoed():
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"EXTERNAL_ID": "s3cr3t-external-id", "AWS_LAMBDA_FUNCTION_NAME": "iam-inventory"})
    assert "EXTERNAL_ID_PARAMETER" in str(caught.value)
    assert "s3cr3t-external-id" not in str(caught.value)


def test_malformed_external_id_is_not_echoed():
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"EXTERNAL_ID": "has spaces in the secret"})
    assert "EXTERNAL_ID" in str(caught.value)
    assert "has spaces" not in str(caught.value)


def test_exclusive_sources_are_refused():
    with pytest.raises(ConfigError, match="ACCOUNT_IDS and ACCOUNT_IDS_PARAMETER"):
        Settings.from_env({"ACCOUNT_IDS": "111111111111", "ACCOUNT_IDS_PARAMETER": "/iam-inventory/accounts"})


def test_grace_period_must_be_shorter_than_max_age():
    with pytest.raises(ConfigError, match="NEVER_USED_GRACE_DAYS"):
        Settings.from_env({"MAX_KEY_AGE_DAYS": "7", "NEVER_USED_GRACE_DAYS": "7"})


def test_settings_repr_hides_the_external_id():
    assert "hidden-value" not in repr(Settings.from_env({"EXTERNAL_ID": "hidden-value"}))


def test_user_tag_keys_default_split_dedupe_and_switch_off():
    assert Settings.from_env({}).user_tag_keys == ("owner", "team")
    assert Settings.from_env({"USER_TAG_KEYS": "owner, cost-center ,owner"}).user_tag_keys == (
        "owner",
        "cost-center",
    )
    assert Settings.from_env({"USER_TAG_KEYS": "None"}).user_tag_keys == ()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("USER_TAG_KEYS", "owner,bad|key"),
        ("NOTIFY_TOPIC_ARN", "arn:aws:sqs:us-east-1:123456789012:queue"),
        ("SECURITY_HUB_EXPORT", "maybe"),
        ("CONSOLE_ROLE_NAME", "role/with/slash"),
        ("HISTORY_RUNS", "0"),
        ("CARRY_OVER_RUNS", "-1"),
        ("CARRY_OVER_RUNS", "many"),
        ("MAX_FAILED_FRACTION", "1.5"),
        ("MAX_FAILED_FRACTION", "half"),
    ],
)
def test_output_settings_are_validated_and_named(variable, value):
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env({variable: value})


def test_output_settings_parse():
    settings = Settings.from_env(
        {
            "NOTIFY_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:iam-findings",
            "SECURITY_HUB_EXPORT": "true",
            "CONSOLE_ROLE_NAME": "SecurityAudit",
        }
    )
    assert settings.notify_topic_arn == "arn:aws:sns:eu-west-1:123456789012:iam-findings"
    assert settings.security_hub_export is True
    assert settings.console_role_name == "SecurityAudit"
    assert Settings.from_env({}).security_hub_export is False


def test_comparison_and_status_settings_default_and_parse():
    defaults = Settings.from_env({})
    assert (defaults.carry_over_runs, defaults.max_failed_fraction) == (3, 0.5)
    custom = Settings.from_env({"CARRY_OVER_RUNS": "0", "MAX_FAILED_FRACTION": "0.2"})
    assert (custom.carry_over_runs, custom.max_failed_fraction) == (0, 0.2)


def _config_error(environ: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(environ)
    return str(caught.value)


def test_bad_account_id_gets_one_line_naming_variable_rule_and_value():
    assert _config_error({"ACCOUNT_IDS": "111111111111,12345"}) == (
        "invalid configuration: environment variable ACCOUNT_IDS.1: must be a 12-digit AWS account ID "
        "(got '12345')"
    )


def test_every_bad_variable_is_listed_on_the_same_line():
    assert _config_error({"INCLUDE_OUS": "ou-bad", "WORKERS": "-1"}) == (
        "invalid configuration: environment variable INCLUDE_OUS.0: must be an OU id (ou-xxxx-xxxxxxxx) "
        "or the root id (r-xxxx) (got 'ou-bad'); "
        "environment variable WORKERS: Input should be greater than or equal to 0 (got '-1')"
    )


def test_a_rule_across_variables_is_reported_without_a_value():
    assert _config_error({"ACCOUNT_IDS": "111111111111", "ACCOUNT_IDS_PARAMETER": "/ids"}) == (
        "invalid configuration: environment variable (settings): "
        "ACCOUNT_IDS and ACCOUNT_IDS_PARAMETER are exclusive: set one"
    )


def test_account_tag_values_may_contain_equals_signs():
    settings = Settings.from_env({"INCLUDE_ACCOUNT_TAGS": "env=a=b, team = core"})
    assert settings.account_filters.include_tags == frozenset({("env", "a=b"), ("team", "core")})


class _Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str
    token: str = ""


def test_missing_or_unknown_fields_never_echo_the_input():
    # Given input without a required field and with an unknown one: pydantic's "input" for a missing
    # field is the whole object, which would print every sibling value (here a token)
    with pytest.raises(ValidationError) as caught:
        _Credentials.model_validate({"token": "s3cr3t-token", "rol": "admin"})
    # When it is described
    detail = describe_validation_error(caught.value, "event")
    # Then each field is named, and no value is shown
    assert detail == "event role: Field required; event rol: Extra inputs are not permitted"


FIVE_BAD = {
    "MAX_KEY_AGE_DAYS": "0",
    "UNUSED_KEY_DAYS": "0",
    "MAX_ATTEMPTS": "0",
    "HISTORY_RUNS": "0",
    "ACCOUNT_CONCURRENCY": "0",
}


def test_five_problems_are_all_listed():
    # Given exactly five bad variables (the most one line lists)
    message = _config_error(FIVE_BAD)
    # Then each one is named, and nothing is summarised
    assert [part.split(":")[0] for part in message.removeprefix("invalid configuration: ").split("; ")] == [
        "environment variable MAX_KEY_AGE_DAYS",
        "environment variable UNUSED_KEY_DAYS",
        "environment variable MAX_ATTEMPTS",
        "environment variable ACCOUNT_CONCURRENCY",
        "environment variable HISTORY_RUNS",
    ]
    assert "more problems" not in message


def test_beyond_five_problems_the_rest_are_counted():
    # Given seven bad variables
    message = _config_error({**FIVE_BAD, "WORKERS": "-1", "READ_TIMEOUT_SECONDS": "0"})
    # Then five are named and the last part counts the other two
    parts = message.split("; ")
    assert len(parts) == 6
    assert parts[-1] == "and 2 more problems"
