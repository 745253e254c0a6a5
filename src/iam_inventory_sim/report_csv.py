"""The credential report's CSV, written from one moto IAM backend the way AWS writes it.

Columns and values follow the IAM User Guide's report format (N/A for no key or never used,
`<root_account>` as the first row, `no_information`/`not_supported` for root password fields):
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html#id_credentials_understanding_the_report_format
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

COLUMNS = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
]
# (account, user) -> the key id in slot 1 and slot 2, kept from one report to the next.
SlotMap = dict[tuple[str, str], list[str | None]]


def report_time(value: datetime | None) -> str:
    """A report timestamp (whole seconds, +00:00), or N/A."""
    if value is None:
        return "N/A"
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def wire_time(value: datetime) -> str:
    """A timestamp as the query protocol writes it (…Z)."""
    return report_time(value).replace("+00:00", "Z")


def assign_slots(slots: SlotMap, account_id: str, user_name: str, keys: list[Any]) -> list[Any | None]:
    """The user's keys in report slots 1 and 2.

    AWS does not document the slot order. The model: a key keeps its slot while it exists, and a new
    key takes the first free slot; so after slot 1's key is deleted, a newer key lands in slot 1,
    ahead of an older key in slot 2. A collector must therefore match slots by creation time.
    """
    by_id = {key.access_key_id: key for key in keys}
    current = [
        key_id if key_id in by_id else None for key_id in slots.get((account_id, user_name), [None, None])
    ]
    for key in sorted(keys, key=lambda item: item.create_date):
        if key.access_key_id not in current and None in current:
            current[current.index(None)] = key.access_key_id
    slots[(account_id, user_name)] = current
    return [by_id.get(key_id) if key_id else None for key_id in current]


def _key_columns(key: Any | None, slot: int) -> dict[str, str]:
    prefix = f"access_key_{slot}"
    if key is None:
        return {
            f"{prefix}_active": "false",
            f"{prefix}_last_rotated": "N/A",
            f"{prefix}_last_used_date": "N/A",
            f"{prefix}_last_used_region": "N/A",
            f"{prefix}_last_used_service": "N/A",
        }
    used = key.last_used
    return {
        f"{prefix}_active": "true" if key.status == "Active" else "false",
        f"{prefix}_last_rotated": report_time(key.create_date),
        f"{prefix}_last_used_date": report_time(used.timestamp) if used else "N/A",
        f"{prefix}_last_used_region": used.region if used else "N/A",
        f"{prefix}_last_used_service": used.service if used else "N/A",
    }


def _cert_columns(certificates: list[Any]) -> dict[str, str]:
    """cert_1/cert_2 of a row: Active as TRUE/FALSE and the certificate's upload second, else N/A.

    The User Guide: cert_N_active is TRUE "when the user has an X.509 signing certificate and that
    certificate's status is Active"; cert_N_last_rotated is "when the user's signing certificate was
    created or last changed". As for access keys, an inactive certificate keeps its date (the column is
    N/A only for an empty slot). moto wrote FALSE and N/A whatever the user held. AWS documents no slot
    order; here slot 1 is the older upload, so a collector must not read ids or order into the slots.
    """
    columns: dict[str, str] = {}
    ordered = sorted(certificates, key=lambda cert: cert.upload_date)
    for slot in (1, 2):
        cert = ordered[slot - 1] if len(ordered) >= slot else None
        columns[f"cert_{slot}_active"] = "true" if cert is not None and cert.status == "Active" else "false"
        columns[f"cert_{slot}_last_rotated"] = report_time(cert.upload_date) if cert is not None else "N/A"
    return columns


def root_signing_certificates(backend: Any) -> list[Any]:
    """The root user's signing certificates, planted by the seeder (root's own calls are not simulated)."""
    planted: list[Any] = getattr(backend, "root_signing_certificates", [])
    return planted


def _root_row(backend: Any) -> dict[str, str]:
    summary = backend.account_summary
    row = {
        "user": "<root_account>",
        "arn": f"arn:aws:iam::{backend.account_id}:root",
        "user_creation_time": report_time(datetime(2020, 1, 1, tzinfo=UTC)),
        "password_enabled": "not_supported",
        "password_last_used": "no_information",
        "password_last_changed": "not_supported",
        "mfa_active": "true" if getattr(summary, "_account_mfa_enabled", 0) else "false",
        **_key_columns(None, 1),
        **_key_columns(None, 2),
        **_cert_columns(root_signing_certificates(backend)),
    }
    if getattr(summary, "_account_access_keys_present", 0):
        row |= {"access_key_1_active": "true", "access_key_1_last_rotated": report_time(datetime(2021, 1, 1))}
    return row


def render_report(backend: Any, slots: SlotMap, quoted: bool = True) -> str:
    """The CSV AWS would generate now for one moto IAM backend, root row first.

    `quoted=False` writes every field as is, a comma in a user name included (AWS documents no quoting).
    """
    buffer = io.StringIO(newline="")
    writer = (
        csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n", restval="N/A")
        if quoted
        else _UnquotedWriter(buffer)
    )
    writer.writeheader()
    writer.writerow(_root_row(backend))
    for user in backend.users.values():
        key_1, key_2 = assign_slots(slots, backend.account_id, user.name, list(user.access_keys))
        # password_last_changed: the last set (creation or reset), not the login profile's CreateDate.
        password_set = getattr(user, "password_changed", None) or user.create_date
        writer.writerow(
            {
                "user": user.name,
                "arn": user.arn,
                "user_creation_time": report_time(user.create_date),
                "password_enabled": "true" if user.password else "false",
                "password_last_used": report_time(user.password_last_used) if user.password else "N/A",
                "password_last_changed": report_time(password_set) if user.password else "N/A",
                "mfa_active": "true" if user.mfa_devices else "false",
                **_key_columns(key_1, 1),
                **_key_columns(key_2, 2),
                **_cert_columns(list(user.signing_certificates.values())),
            }
        )
    return buffer.getvalue()


class _UnquotedWriter:
    """csv.DictWriter's two calls, writing fields joined by commas with no quoting at all."""

    def __init__(self, buffer: io.StringIO) -> None:
        self._buffer = buffer

    def writeheader(self) -> None:
        self._buffer.write(",".join(COLUMNS) + "\n")

    def writerow(self, row: dict[str, str]) -> None:
        self._buffer.write(",".join(row.get(column, "N/A") for column in COLUMNS) + "\n")
