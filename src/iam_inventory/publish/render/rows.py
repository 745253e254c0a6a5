"""Flat rows of the findings and inventory tables, shared by the CSVs and the Athena JSON Lines (pure)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from iam_inventory.evaluate.finding_enrichment import ENRICHED_CSV_COLUMNS
from iam_inventory.publish.render.credentials import CREDENTIAL_COLUMNS, credential_rows

FINDINGS_CSV_COLUMNS: tuple[str, ...] = (
    "finding_id",
    "account_id",
    "account_name",
    "rule_id",
    "severity",
    "cis_control",
    "user_name",
    "access_key_id",
    "measured_value",
    "threshold",
    "unit",
    "message",
    # Added in schema 1.1, appended so that the columns before them keep their positions.
    "tags",
    "first_seen_at",
    "is_new",
    # Added in schema 1.3: owner, privilege, lifecycle, exception and remediation (evaluate.enrich).
    *ENRICHED_CSV_COLUMNS,
    # Added in schema 1.6: the kind and id of the credential (an access key's id too).
    "credential_type",
    "credential_id",
)
INVENTORY_CSV_COLUMNS: tuple[str, ...] = (
    "account_id",
    "account_name",
    "user_name",
    "user_id",
    "user_arn",
    "user_path",
    "user_created_at",
    "console_access",
    "mfa_enabled",
    "password_last_used",
    "access_key_id",
    "key_status",
    "key_created_at",
    "key_age_days",
    "key_never_used",
    "key_last_used_at",
    "key_last_used_service",
    "key_last_used_region",
    "tags",
    # Added in schema 1.6: one row per credential of any kind (render/credentials.py).
    *CREDENTIAL_COLUMNS,
)
# Spreadsheets execute cells starting with these (formula injection); IAM names may start with + = @ -.
# All one character: a cell is checked by its first (a set lookup, on every cell of every finding).
_FORMULA_FIRST = frozenset(("=", "+", "-", "@", "\t", "\r"))


def csv_safe(value: Any) -> str:
    """A cell value that a spreadsheet will show as text, never evaluate as a formula."""
    text = value if type(value) is str else "" if value is None else str(value)
    return "'" + text if text[:1] in _FORMULA_FIRST else text


def format_tags(tags: dict[str, str] | None) -> str:
    """Tags as one readable cell: `owner=alice@example.com; team=payments`."""
    return "; ".join(f"{key}={value}" for key, value in (tags or {}).items())


def _cell(value: Any) -> str:
    # Most cells are text: checked first, without the calls (a million cells at 25k findings).
    if type(value) is str:
        return "'" + value if value[:1] in _FORMULA_FIRST else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return csv_safe(format_tags(value))
    return csv_safe(value)


def finding_row(finding: dict[str, Any], account_name: str) -> dict[str, Any]:
    """One flat row (typed values) of a finding entry, with the account name joined in."""
    remediation = finding.get("remediation")
    if isinstance(remediation, dict):  # a report.json entry: the text, then each command on its line
        remediation = "\n".join((remediation.get("text") or "", *(remediation.get("commands") or [])))
    return {
        **dict.fromkeys(FINDINGS_CSV_COLUMNS),
        **finding,
        "account_name": account_name,
        "tags": finding.get("tags") or {},
        "remediation": remediation,
    }


def inventory_rows(inventory: dict[str, Any], account_name: str) -> Iterator[dict[str, Any]]:
    """One flat row per credential (access key, password, service credential, SSH key, certificate).

    A user without any credential still has one row, its credential columns empty. The key columns are
    filled on access key rows only, as before 1.6.
    """
    for user in inventory["users"]:
        base = {
            "account_id": inventory["account_id"],
            "account_name": account_name,
            "user_name": user["user_name"],
            "user_id": user["user_id"],
            "user_arn": user["arn"],
            "user_path": user["path"],
            "user_created_at": user["created_at"],
            "console_access": user["console_access"],
            "mfa_enabled": user["mfa_enabled"],
            "password_last_used": user["password_last_used"],
        }
        tags = user.get("tags") or {}
        credentials = list(credential_rows(user)) or [(None, dict.fromkeys(CREDENTIAL_COLUMNS))]
        for key, columns in credentials:
            yield {**base, **_key_columns(key), "tags": tags, **columns}


def _key_columns(key: dict[str, Any] | None) -> dict[str, Any]:
    if key is None:
        return dict.fromkeys(INVENTORY_CSV_COLUMNS[10:18])
    return {
        "access_key_id": key["access_key_id"],
        "key_status": key["status"],
        "key_created_at": key["created_at"],
        "key_age_days": key["age_days"],
        "key_never_used": key["never_used"],
        "key_last_used_at": key["last_used_at"],
        "key_last_used_service": key["last_used_service"],
        "key_last_used_region": key["last_used_region"],
    }


def csv_lines(columns: tuple[str, ...], rows: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> str:
    """CSV text of `rows` (no header), cells made spreadsheet-safe."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([_cell(row[column]) for column in columns])
    return buffer.getvalue()


def csv_header(columns: tuple[str, ...]) -> str:
    """The header line of a CSV with `columns`."""
    return ",".join(columns) + "\n"
