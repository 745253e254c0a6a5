"""Remediation builders: what to do about a finding and the exact AWS CLI commands (planned, never run).

Each rule record (evaluate/registry.py) names its builder; `rules.remediation_for` picks it. Every value
is quoted for a POSIX shell with shlex, so a hostile user name stays one argument.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass

from iam_inventory.models import Finding

DEFAULT_WAIT_DAYS = 14


@dataclass(frozen=True, slots=True)
class Remediation:
    """What to do about a finding, and the commands that do it (empty when only the console can)."""

    text: str
    commands: tuple[str, ...] = ()
    console_only: bool = False


@dataclass(frozen=True, slots=True)
class RemedyOptions:
    """How the commands are written: the wait before deleting, the CLI profile, the partition."""

    wait_days: int = DEFAULT_WAIT_DAYS
    profile: str | None = None
    partition: str = "aws"


RemedyBuilder = Callable[[Finding, RemedyOptions], Remediation]


def aws_command(*arguments: str, profile: str | None = None) -> str:
    """An `aws` command line with every argument quoted for the shell."""
    words = ["aws", *arguments]
    if profile:
        words += ["--profile", profile]
    # shlex.join's own definition, without its generator: this runs for every command of every finding.
    return " ".join(map(shlex.quote, words))


def deactivate_key_command(user: str, key_id: str, profile: str | None = None) -> str:
    """Set an access key to Inactive (reversible)."""
    return aws_command(
        "iam",
        "update-access-key",
        "--user-name",
        user,
        "--access-key-id",
        key_id,
        "--status",
        "Inactive",
        profile=profile,
    )


def delete_key_command(user: str, key_id: str, profile: str | None = None) -> str:
    """Delete an access key (irreversible)."""
    return aws_command(
        "iam", "delete-access-key", "--user-name", user, "--access-key-id", key_id, profile=profile
    )


def last_used_command(key_id: str, profile: str | None = None) -> str:
    """Read when an access key was last used."""
    return aws_command("iam", "get-access-key-last-used", "--access-key-id", key_id, profile=profile)


def review(finding: Finding) -> Remediation:
    """The text for a finding no builder can plan (an unknown rule, or one missing its user or key)."""
    if finding.user_name is None:
        return Remediation(f"Review rule {finding.rule_id} in account {finding.account_id}.")
    return Remediation(
        f"Review rule {finding.rule_id} for user {finding.user_name} in account {finding.account_id}."
    )


def root_console(what: str) -> RemedyBuilder:
    """Root credentials are changed in the console only: `what` says what to do there."""

    def build(finding: Finding, options: RemedyOptions) -> Remediation:
        return Remediation(
            f"Sign in to account {finding.account_id} as the root user{what}", console_only=True
        )

    return build


def retire_key(why: str, *, exposed: bool = False) -> RemedyBuilder:
    """Deactivate an access key, then delete it after the wait; `why` ends the text's first sentence."""

    def build(finding: Finding, options: RemedyOptions) -> Remediation:
        account, user, key, profile = (
            finding.account_id,
            finding.user_name,
            finding.access_key_id,
            options.profile,
        )
        if user is None or key is None:
            return review(finding)
        # An exposed key goes whatever its use: a use since the report may be the attacker's.
        then = (
            f"Delete it after {options.wait_days} days, once the workload runs on a new key."
            if exposed
            else f"Check its last use again after {options.wait_days} days; if unused, delete it."
        )
        return Remediation(
            f"In account {account}, deactivate access key {key} of user {user} because {why}. {then}",
            (
                last_used_command(key, profile),
                deactivate_key_command(user, key, profile),
                last_used_command(key, profile),
                delete_key_command(user, key, profile),
            ),
        )

    return build


def delete_inactive_key(finding: Finding, options: RemedyOptions) -> Remediation:
    """An inactive key: check it stayed unused, then delete it."""
    account, user, key, profile = (
        finding.account_id,
        finding.user_name,
        finding.access_key_id,
        options.profile,
    )
    if user is None or key is None:
        return review(finding)
    return Remediation(
        f"In account {account}, delete the inactive access key {key} of user {user} after checking "
        "that it has not been used since it was deactivated.",
        (last_used_command(key, profile), delete_key_command(user, key, profile)),
    )


def keep_one_key(finding: Finding, options: RemedyOptions) -> Remediation:
    """Two active keys: the person picks the one not in use."""
    account, user = finding.account_id, finding.user_name
    if user is None:
        return review(finding)
    return Remediation(
        f"In account {account}, user {user} keeps one active key: find the one not in use with "
        "get-access-key-last-used, deactivate it, and delete it after the waiting period.",
        (aws_command("iam", "list-access-keys", "--user-name", user, profile=options.profile),),
    )


def enable_mfa(finding: Finding, options: RemedyOptions) -> Remediation:
    """A console user without MFA: a device for the user, or no console password at all."""
    account, user, profile = finding.account_id, finding.user_name, options.profile
    if user is None:
        return review(finding)
    serial = f"arn:{options.partition}:iam::{account}:mfa/{user}"
    # The two codes come from the user's device at the time; they stay shell variables, never values.
    enable = aws_command(
        "iam", "enable-mfa-device", "--user-name", user, "--serial-number", serial, profile=profile
    )
    return Remediation(
        f"In account {account}, user {user} assigns an MFA device (console: Security credentials), or an "
        "administrator creates a virtual device and enables it with two consecutive codes from it. If "
        "the user does not need the console, delete the login profile instead.",
        (
            aws_command(
                "iam",
                "create-virtual-mfa-device",
                "--virtual-mfa-device-name",
                user,
                "--outfile",
                "mfa-qr.png",
                "--bootstrap-method",
                "QRCodePNG",
                profile=profile,
            ),
            enable + ' --authentication-code1 "$MFA_CODE_1" --authentication-code2 "$MFA_CODE_2"',
            aws_command("iam", "delete-login-profile", "--user-name", user, profile=profile),
        ),
    )


def remove_password(finding: Finding, options: RemedyOptions) -> Remediation:
    """An unused console password: delete the login profile."""
    account, user = finding.account_id, finding.user_name
    if user is None:
        return review(finding)
    return Remediation(
        f"In account {account}, remove the unused console password of user {user}.",
        (aws_command("iam", "delete-login-profile", "--user-name", user, profile=options.profile),),
    )
