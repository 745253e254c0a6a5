"""Set what no IAM API can set, straight in moto's stored state: root credentials, key and password dates.

An account's admin cannot backdate a key or mark it used; AWS does that over time. The tests and the demo
need a key that is 200 days old now, so these write moto's backend directly.
"""

from __future__ import annotations

from datetime import UTC, datetime


def set_root_credentials(
    account_id: str, access_key: bool, mfa: bool, password: bool = True, removed: bool = False
) -> None:
    """Set what the root user holds, as GetAccountSummary and the report's root row show it.

    No IAM API sets these from a member account: root does it signed in as root, or the organization's
    management account deletes them all (`removed`: "Delete root user credentials" removes the password,
    access keys and signing certificates and deactivates MFA).
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user-privileged-task.html
    """
    from moto.iam.models import iam_backends

    summary = iam_backends[account_id]["aws"].account_summary
    summary._account_access_keys_present = int(access_key and not removed)
    summary._account_mfa_enabled = int(mfa and not removed)
    summary._account_password_present = int(password and not removed)
    if removed:
        summary._account_signing_certificates_present = 0


def backdate_key(
    account_id: str,
    user_name: str,
    key_id: str,
    created_at: datetime,
    last_used_at: datetime | None = None,
    service: str = "s3",
) -> None:
    """Set a key's creation (whole seconds, as IAM keeps it) and last use, which no IAM API can set."""
    from moto.iam.models import AccessKeyLastUsed, iam_backends

    user = iam_backends[account_id]["aws"].users[user_name]
    stored = next(key for key in user.access_keys if key.access_key_id == key_id)
    stored.create_date = _naive(created_at).replace(microsecond=0)
    stored.last_used = (
        None
        if last_used_at is None
        else AccessKeyLastUsed(timestamp=_naive(last_used_at), service=service, region="us-east-1")
    )


def set_password_dates(
    account_id: str,
    user_name: str,
    last_used_at: datetime | None,
    changed_at: datetime | None = None,
    profile_created_at: datetime | None = None,
) -> None:
    """Set a password's last use, last set (report) and its login profile's creation (GetLoginProfile)."""
    from moto.iam.models import iam_backends

    user = iam_backends[account_id]["aws"].users[user_name]
    user.password_last_used = None if last_used_at is None else _naive(last_used_at)
    if changed_at is not None:
        user.password_changed = _naive(changed_at).replace(microsecond=0)
    if profile_created_at is not None:
        user.login_profile_created = _naive(profile_created_at).replace(microsecond=0)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)  # moto stores naive UTC datetimes
