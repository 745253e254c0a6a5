"""What the CLI checks before a scan starts, in the user's words (flag names), and the hints after it."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from iam_inventory.config.settings import ConfigError, Settings
from iam_inventory.config.validation import ACCOUNT_ID_PATTERN
from iam_inventory.core.errors import IamInventoryError
from iam_inventory.core.observability import LOG_LEVELS, configured_log_level
from iam_inventory.models import AccountStatus

MAX_ACCOUNTS = 10_000
_ACCOUNT_ID = re.compile(ACCOUNT_ID_PATTERN)
# Errors STS answers when the role exists but will not be assumed by this caller (or does not exist).
_REFUSED_CODES = frozenset({"AccessDenied", "AccessDeniedException"})


class UsageError(IamInventoryError, ValueError):
    """A flag's value is unusable; the message names the flag."""


def summarise(values: list[str], shown: int = 3) -> str:
    """A short rendering of a possibly long list: the first few, then how many more."""
    head = ", ".join(values[:shown])
    return head if len(values) <= shown else f"{head} and {len(values) - shown} more"


def parse_accounts(text: str) -> list[str]:
    """The account ids of `--accounts`, or UsageError naming the bad ones (never echoing thousands)."""
    accounts = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not accounts:
        raise UsageError("--accounts: give at least one 12-digit AWS account ID")
    bad = [account for account in accounts if not _ACCOUNT_ID.match(account)]
    if bad:
        raise UsageError(f"--accounts: not a 12-digit AWS account ID: {summarise([repr(b) for b in bad])}")
    if len(accounts) > MAX_ACCOUNTS:
        raise UsageError(f"--accounts: {len(accounts)} accounts given, at most {MAX_ACCOUNTS} per run")
    return accounts


def check_out_dir(path: Path) -> None:
    """Create `--out` if needed and prove it writable, before any account is scanned."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {path}: is a file, not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise UsageError(f"--out {path}: cannot write there ({error.strerror or error})") from None


def check_cli_log_level(environ: Mapping[str, str]) -> str:
    """The level for the CLI's logs on stderr (WARNING unless set); ConfigError for an unknown one."""
    level, invalid = configured_log_level(environ, default="WARNING")
    if invalid is not None:
        value = environ[invalid].strip()
        raise ConfigError(
            f"invalid configuration: environment variable {invalid}: {value[:20]!r} is not one of "
            f"{', '.join(LOG_LEVELS)}"
        )
    return level


def access_denied_hint(accounts: Sequence[Mapping[str, Any]], settings: Settings) -> str | None:
    """What to check when every account that was tried refused the spoke role; None otherwise."""
    tried = [item for item in accounts if item["status"] != AccountStatus.SKIPPED.value]
    if not tried or any(
        item["status"] != AccountStatus.FAILED.value or item["error_code"] not in _REFUSED_CODES
        for item in tried
    ):
        return None
    external_id = (
        f"the SSM parameter {settings.external_id_parameter}"
        if settings.external_id_parameter
        else ("EXTERNAL_ID" if settings.external_id else None)
    )
    lines = [f"every account ({len(tried)}) refused AssumeRole (AccessDenied). Check:"]
    if external_id:
        lines.append(f"  - the ExternalId in {external_id} equals the one in the spoke trust policies")
    else:
        lines.append(
            "  - no ExternalId is configured: set EXTERNAL_ID (CLI) or EXTERNAL_ID_PARAMETER (an SSM "
            "SecureString) if the spoke trust policies require sts:ExternalId"
        )
    lines.append("  - each spoke role's trust policy names the hub principal these credentials belong to")
    lines.append(
        f"  - the role exists in every spoke as {settings.role_path}{settings.role_name} "
        "(--role-name, ROLE_NAME, ROLE_PATH)"
    )
    return "\n".join(lines)
