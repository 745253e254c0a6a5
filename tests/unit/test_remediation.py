"""Remediation text and exact AWS CLI commands per rule, quoted for the shell."""

from __future__ import annotations

import shlex

import pytest

from iam_inventory.evaluate.remediation import Remediation
from iam_inventory.evaluate.rules import remediation_for
from tests.unit.test_exceptions import make_finding

HOSTILE = "bob'; rm -rf ~ #$(touch pwned)`id`\nx"


def test_unused_key_is_deactivated_then_deleted():
    # Given an unused-key finding
    finding = make_finding(rule="access_key_unused", user="ci-deployer", key="AKIAEXAMPLE000000001")
    # When its remediation is planned with a 30-day wait and a profile
    remediation = remediation_for(finding, wait_days=30, profile="audit-111111111111")
    # Then the text names account, user, key and wait, and the commands are exactly these, in order
    assert remediation.text == (
        "In account 111111111111, deactivate access key AKIAEXAMPLE000000001 of user ci-deployer "
        "because it has not been used within the window. Check its last use again after 30 days; "
        "if unused, delete it."
    )
    profile = " --profile audit-111111111111"
    assert remediation.commands == (
        "aws iam get-access-key-last-used --access-key-id AKIAEXAMPLE000000001" + profile,
        "aws iam update-access-key --user-name ci-deployer --access-key-id AKIAEXAMPLE000000001 "
        "--status Inactive" + profile,
        "aws iam get-access-key-last-used --access-key-id AKIAEXAMPLE000000001" + profile,
        "aws iam delete-access-key --user-name ci-deployer --access-key-id AKIAEXAMPLE000000001" + profile,
    )
    assert remediation.console_only is False


def test_exposed_key_is_deactivated_now_and_the_quarantine_left_in_place():
    finding = make_finding(rule="access_key_exposed", user="ci-deployer", key="AKIAEXAMPLE000000001")
    remediation = remediation_for(finding, wait_days=7)
    assert remediation.text == (
        "In account 111111111111, deactivate access key AKIAEXAMPLE000000001 of user ci-deployer because "
        "AWS found a key of this user exposed in public and quarantined the user; do it now, without "
        "waiting for a review, and follow the AWS support case (leave the quarantine policy attached until "
        "it is closed). Delete it after 7 days, once the workload runs on a new key."
    )
    assert remediation.commands[1] == (
        "aws iam update-access-key --user-name ci-deployer --access-key-id AKIAEXAMPLE000000001 "
        "--status Inactive"
    )


def test_root_key_is_console_only():
    remediation = remediation_for(make_finding(rule="root_access_key_present", user=None, key=None))
    assert remediation == Remediation(
        "Sign in to account 111111111111 as the root user, open Security credentials, deactivate the "
        "root access key and then delete it. This is done in the console only: no CLI command.",
        (),
        True,
    )


def test_mfa_commands_leave_the_codes_to_the_person():
    remediation = remediation_for(
        make_finding(rule="console_user_without_mfa", user="alice", key=None), partition="aws-cn"
    )
    assert remediation.commands == (
        "aws iam create-virtual-mfa-device --virtual-mfa-device-name alice --outfile mfa-qr.png "
        "--bootstrap-method QRCodePNG",
        "aws iam enable-mfa-device --user-name alice --serial-number arn:aws-cn:iam::111111111111:mfa/alice "
        '--authentication-code1 "$MFA_CODE_1" --authentication-code2 "$MFA_CODE_2"',
        "aws iam delete-login-profile --user-name alice",
    )


@pytest.mark.parametrize(
    ("rule", "key", "first_command"),
    [
        (
            "inactive_access_key",
            "AKIAEXAMPLE000000001",
            "aws iam get-access-key-last-used --access-key-id AKIAEXAMPLE000000001",
        ),
        ("user_two_active_keys", None, "aws iam list-access-keys --user-name ci-deployer"),
        ("console_password_unused", None, "aws iam delete-login-profile --user-name ci-deployer"),
        (
            "access_key_too_old",
            "AKIAEXAMPLE000000001",
            "aws iam get-access-key-last-used --access-key-id AKIAEXAMPLE000000001",
        ),
        (
            "access_key_never_used",
            "AKIAEXAMPLE000000001",
            "aws iam get-access-key-last-used --access-key-id AKIAEXAMPLE000000001",
        ),
    ],
)
def test_every_user_rule_has_commands(rule, key, first_command):
    assert remediation_for(make_finding(rule=rule, key=key)).commands[0] == first_command


def test_an_unknown_rule_gets_a_review_text_and_no_command():
    remediation = remediation_for(make_finding(rule="some_future_rule"))
    assert remediation == Remediation(
        "Review rule some_future_rule for user ci-deployer in account 111111111111."
    )


def test_hostile_user_names_stay_one_shell_word():
    # Given a user name (as a tampered report could carry) built to break out of a command line
    finding = make_finding(rule="access_key_unused", user=HOSTILE)
    # When the commands are built, then the shell splits each back into exactly the intended words
    for command in remediation_for(finding, profile="p; reboot").commands:
        words = shlex.split(command)
        assert words[0] == "aws"
        assert "p; reboot" in words
        if "--user-name" in words:
            assert words[words.index("--user-name") + 1] == HOSTILE
