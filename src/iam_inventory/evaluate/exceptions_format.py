"""The exceptions file: a versioned JSON document, validated strictly against the run date (pure).

JSON, not YAML: the Lambda package needs no extra dependency, and YAML 1.1 would silently turn an unquoted
account id into an integer (one with a leading zero into an octal number) and a date into a date object.
Format: docs/remediation.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from iam_inventory.evaluate.exceptions import (
    EXCEPTIONS_FORMAT_VERSION,
    MAX_EXCEPTION_DAYS,
    ExceptionMatch,
    ExceptionSet,
    ExceptionsFileError,
    RiskException,
)
from iam_inventory.evaluate.rules import RULE_IDS

_ID = re.compile(r"^[\w.:/-]{1,128}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_KEY_ID = re.compile(r"^[A-Z0-9]{16,128}$")
# IAM's credential ids (ACCA..., APKA..., certificate ids), or the stand-in `report-<upload time>` of a
# certificate known only from the credential report (evaluate/certificate_rules.py).
_CREDENTIAL_ID = re.compile(r"^([A-Za-z0-9_]{16,128}|report-\d{8}T\d{6}Z)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Each match field: the pattern it must follow (None: any non-empty text) and how to say so.
_MATCH_FIELDS: dict[str, tuple[re.Pattern[str] | None, str]] = {
    "account": (_ACCOUNT, "a 12-digit account id in quotes"),
    "ou_path": (None, ""),
    "user": (None, ""),
    "access_key_id": (_KEY_ID, "an access key id such as AKIA..."),
    "rule": (None, ""),
    "credential_id": (
        _CREDENTIAL_ID,
        "a credential id such as ACCA..., APKA..., a certificate id or report-...",
    ),
}
_ENTRY_FIELDS = frozenset({"id", "match", "owner", "reason", "ticket", "expires"})


def load_exceptions_text(text: str | bytes, today: date, source: str) -> ExceptionSet:
    """Parse and validate the JSON text of an exceptions file; raise ExceptionsFileError on any problem."""
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        where = (
            f" at line {error.lineno} column {error.colno}" if isinstance(error, json.JSONDecodeError) else ""
        )
        raise ExceptionsFileError(source, [f"not valid JSON{where}"]) from None
    return parse_exceptions(document, today, source)


def parse_exceptions(document: Any, today: date, source: str) -> ExceptionSet:
    """Validate a decoded exceptions document against the run date; all problems are reported at once."""
    if not isinstance(document, Mapping):
        raise ExceptionsFileError(
            source, ['top level: must be an object {"version": 1, "exceptions": [...]}']
        )
    problems = [
        f"top level: unknown field {name!r}" for name in document if name not in {"version", "exceptions"}
    ]
    if document.get("version") != EXCEPTIONS_FORMAT_VERSION:
        problems.append(f"version: must be {EXCEPTIONS_FORMAT_VERSION} (got {document.get('version')!r})")
    entries = document.get("exceptions")
    if not isinstance(entries, list):
        raise ExceptionsFileError(source, [*problems, "exceptions: must be a list"])
    parsed: list[RiskException] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        errors: list[str] = []
        exception = _parse_entry(entry, today, errors)
        label = _label(index, entry)
        problems.extend(f"{label}: {error}" for error in errors)
        if exception is not None:
            if exception.exception_id in seen:
                problems.append(f"{label}: id: duplicate of an earlier entry")
            seen.add(exception.exception_id)
            parsed.append(exception)
    if problems:
        raise ExceptionsFileError(source, problems)
    return ExceptionSet(source=source, version=EXCEPTIONS_FORMAT_VERSION, exceptions=tuple(parsed))


def _parse_entry(entry: Any, today: date, errors: list[str]) -> RiskException | None:
    if not isinstance(entry, Mapping):
        errors.append("entry: must be an object")
        return None
    errors.extend(f"{name}: unknown field" for name in entry if name not in _ENTRY_FIELDS)
    exception_id = _text(entry, "id", errors, pattern=_ID, hint="letters, digits and _ . : / - (1-128)")
    owner = _text(entry, "owner", errors)
    reason = _text(entry, "reason", errors)
    ticket = _text(entry, "ticket", errors, required=False)
    expires = _expires(entry.get("expires"), today, errors)
    match = _match(entry.get("match"), errors)
    if errors or exception_id is None or owner is None or reason is None or expires is None or match is None:
        return None
    return RiskException(exception_id, match, owner, reason, expires, ticket)


def _match(value: Any, errors: list[str]) -> ExceptionMatch | None:
    if not isinstance(value, Mapping):
        errors.append(f"match: required object with at least one of {', '.join(_MATCH_FIELDS)}")
        return None
    errors.extend(f"match.{name}: unknown field" for name in value if name not in _MATCH_FIELDS)
    if not any(name in value for name in _MATCH_FIELDS):
        errors.append(
            f"match: set at least one of {', '.join(_MATCH_FIELDS)} (an empty match would hide everything)"
        )
    found = {
        name: _text(value, name, errors, required=False, pattern=pattern, hint=hint, prefix="match.")
        for name, (pattern, hint) in _MATCH_FIELDS.items()
    }
    rule, ou_path = found["rule"], found["ou_path"]
    if rule is not None and rule not in RULE_IDS:
        errors.append(f"match.rule: unknown rule {rule!r} (known: {', '.join(RULE_IDS)})")
    return ExceptionMatch(
        found["account"],
        ou_path.strip("/") if ou_path else None,
        found["user"],
        found["access_key_id"],
        rule,
        found["credential_id"],
    )


def _expires(value: Any, today: date, errors: list[str]) -> date | None:
    if value is None:
        errors.append("expires: required (YYYY-MM-DD)")
        return None
    if not isinstance(value, str) or not _DATE.match(value):
        errors.append(f"expires: must be a date YYYY-MM-DD (got {value!r})")
        return None
    try:
        expires = date.fromisoformat(value)
    except ValueError:
        errors.append(f"expires: {value!r} is not a calendar date")
        return None
    latest = today + timedelta(days=MAX_EXCEPTION_DAYS)
    if expires > latest:
        errors.append(
            f"expires: {value} is more than {MAX_EXCEPTION_DAYS} days after {today} (latest {latest})"
        )
        return None
    return expires


def _text(
    entry: Mapping[str, Any],
    name: str,
    errors: list[str],
    *,
    required: bool = True,
    pattern: re.Pattern[str] | None = None,
    hint: str = "",
    prefix: str = "",
) -> str | None:
    value = entry.get(name)
    if value is None:
        if required:
            errors.append(f"{prefix}{name}: required")
        return None
    if not isinstance(value, str) or not value.strip():
        errors.append(f"{prefix}{name}: must be a non-empty string" + (f" ({hint})" if hint else ""))
        return None
    if pattern is not None and not pattern.match(value):
        errors.append(f"{prefix}{name}: must be {hint} (got {value!r})")
        return None
    return value.strip()


def _label(index: int, entry: Any) -> str:
    exception_id = entry.get("id") if isinstance(entry, Mapping) else None
    shown = f"id {exception_id!r}" if isinstance(exception_id, str) else "no id"
    return f"exceptions[{index}] ({shown})"
