"""Validation vocabulary shared by the settings and the event: patterns, and one readable error line."""

from __future__ import annotations

from pydantic import ValidationError

from iam_inventory.core.text import shorten_repr

ACCOUNT_ID_PATTERN = r"^\d{12}$"
ROLE_NAME_PATTERN = r"^[\w+=,.@-]{1,64}$"
ROLE_PATH_PATTERN = r"^/([\x21-\x7e]*/)?$"
# Organizations ids: a root (r-...) or an OU (ou-<root part>-<ou part>).
OU_ID_PATTERN = r"^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$"
ROLE_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::\d{12}:role/([\x21-\x7e]*/)?[\w+=,.@-]{1,64}$"
# key=value: a non-empty key without '=', then any value; commas separate pairs, so neither holds one.
ACCOUNT_TAG_PATTERN = r"^[^=,]+=[^,]*$"
S3_URI_PATTERN = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$"
# Values of these variables must never be echoed back in an error message.
SECRET_VARIABLES = frozenset({"EXTERNAL_ID"})
MAX_PROBLEMS = 5  # a longer error message is read by nobody


PATTERN_HINTS = {
    OU_ID_PATTERN: "must be an OU id (ou-xxxx-xxxxxxxx) or the root id (r-xxxx)",
    ACCOUNT_TAG_PATTERN: "must be key=value",
    S3_URI_PATTERN: "must be s3://bucket/key",
    ROLE_ARN_PATTERN: "must be an IAM role ARN (arn:aws:iam::123456789012:role/Name)",
}


def describe_validation_error(
    error: ValidationError, what: str, secret_fields: frozenset[str] = frozenset()
) -> str:
    """Turn a pydantic error into one readable line per problem, naming the field, never echoing secrets."""
    problems = []
    for item in error.errors(include_url=False):
        location = ".".join(str(part) for part in item["loc"]) or "(settings)"
        detail = item["msg"].removeprefix("Value error, ")
        if (
            item["type"] == "string_pattern_mismatch"
            and item.get("ctx", {}).get("pattern") == ACCOUNT_ID_PATTERN
        ):
            detail = "must be a 12-digit AWS account ID"
        elif (
            item["type"] == "string_pattern_mismatch" and item.get("ctx", {}).get("pattern") in PATTERN_HINTS
        ):
            detail = PATTERN_HINTS[item["ctx"]["pattern"]]
        shown = ""
        if (
            location not in secret_fields
            and item["type"] not in {"missing", "extra_forbidden"}
            and item["loc"]
        ):
            shown = f" (got {shorten_repr(item['input'])})"
        problems.append(f"{what} {location}: {detail}{shown}")
    if len(problems) > MAX_PROBLEMS:
        problems[MAX_PROBLEMS:] = [f"and {len(problems) - MAX_PROBLEMS} more problems"]
    return "; ".join(problems)
