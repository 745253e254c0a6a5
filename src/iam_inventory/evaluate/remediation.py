"""Remediation per finding: what to do and the exact AWS CLI commands (planned here, never executed).

Every value is quoted for a POSIX shell with shlex, so a hostile user name stays one argument.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from iam_inventory.models import Finding

DEFAULT_WAIT_DAYS = 14
# The key rules whose remediation is "deactivate, then delete": each with why, for the text.
_WHY = {
    "access_key_exposed": "AWS found a key of this user exposed in public and quarantined the user; "
    "do it now, without waiting for a review, and follow the AWS support case (leave the quarantine "
    "policy attached until it is closed)",
    "access_key_too_old": "it is older than the maximum age; if the workload still needs a key, create a new "
    "one and switch the workload to it first",
    "access_key_unused": "it has not been used within the window",
    "access_key_never_used": "it has never been used",
}


@dataclass(frozen=True, slots=True)
class Remediation:
    """What to do about a finding, and the commands that do it (empty when only the console can)."""

    text: str
    commands: tuple[str, ...] = ()
    console_only: bool = False


def aws_command(*arguments: str, profile: str | None = None) -> str:
    """An `aws` command line with every argument quoted for the shell."""
    words = ["aws", *arguments]
    if profile:
        words += ["--profile", profile]
    return shlex.join(words)


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


def remediation_for(
    finding: Finding,
    *,
    wait_days: int = DEFAULT_WAIT_DAYS,
    profile: str | None = None,
    partition: str = "aws",
) -> Remediation:
    """The remediation of one finding, with commands for its account, user and key."""
    account, user, key = finding.account_id, finding.user_name, finding.access_key_id
    rule = finding.rule_id
    if rule == "root_access_key_present":
        return Remediation(
            f"Sign in to account {account} as the root user, open Security credentials, deactivate the "
            "root access key and then delete it. This is done in the console only: no CLI command.",
            console_only=True,
        )
    if rule == "root_mfa_disabled":
        return Remediation(
            f"Sign in to account {account} as the root user and assign an MFA device under Security "
            "credentials (console only).",
            console_only=True,
        )
    if user is None:
        return Remediation(f"Review rule {rule} in account {account}.")
    if rule in _WHY and key:
        # An exposed key goes whatever its use: a use since the report may be the attacker's.
        then = (
            f"Delete it after {wait_days} days, once the workload runs on a new key."
            if rule == "access_key_exposed"
            else f"Check its last use again after {wait_days} days; if unused, delete it."
        )
        return Remediation(
            f"In account {account}, deactivate access key {key} of user {user} because {_WHY[rule]}. {then}",
            (
                last_used_command(key, profile),
                deactivate_key_command(user, key, profile),
                last_used_command(key, profile),
                delete_key_command(user, key, profile),
            ),
        )
    if rule == "inactive_access_key" and key:
        return Remediation(
            f"In account {account}, delete the inactive access key {key} of user {user} after checking "
            "that it has not been used since it was deactivated.",
            (last_used_command(key, profile), delete_key_command(user, key, profile)),
        )
    if rule == "user_two_active_keys":
        return Remediation(
            f"In account {account}, user {user} keeps one active key: find the one not in use with "
            "get-access-key-last-used, deactivate it, and delete it after the waiting period.",
            (aws_command("iam", "list-access-keys", "--user-name", user, profile=profile),),
        )
    if rule == "console_user_without_mfa":
        serial = f"arn:{partition}:iam::{account}:mfa/{user}"
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
    if rule == "console_password_unused":
        return Remediation(
            f"In account {account}, remove the unused console password of user {user}.",
            (aws_command("iam", "delete-login-profile", "--user-name", user, profile=profile),),
        )
    return Remediation(f"Review rule {rule} for user {user} in account {account}.")
