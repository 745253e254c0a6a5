"""Read the exceptions file from where the run is configured to find it: a local file, S3 or SSM."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from iam_inventory.config.settings import Settings
from iam_inventory.core.errors import IamInventoryError
from iam_inventory.core.retry import error_code
from iam_inventory.evaluate.exceptions import NO_EXCEPTIONS, ExceptionSet
from iam_inventory.evaluate.exceptions_format import load_exceptions_text

# The exceptions document is small; a larger object is a mistake (or not an exceptions file).
MAX_EXCEPTIONS_BYTES = 1_000_000


class ExceptionsSourceError(IamInventoryError):
    """The configured exceptions file could not be read: the run refuses to start without it."""


def exceptions_location(settings: Settings, path: Path | None = None) -> str | None:
    """Where the exceptions come from (the CLI's --exceptions FILE wins), or None when not configured."""
    if path is not None:
        return str(path)
    return settings.exceptions_s3_uri or (
        f"ssm:{settings.exceptions_parameter}" if settings.exceptions_parameter else None
    )


def read_exceptions(
    settings: Settings,
    hub_client: Callable[[str], BaseClient],
    today: date,
    path: Path | None = None,
) -> ExceptionSet:
    """The validated exceptions for a run at `today`; NO_EXCEPTIONS when none are configured."""
    source = exceptions_location(settings, path)
    if source is None:
        return NO_EXCEPTIONS
    if path is not None:
        return read_exceptions_file(path, today)
    text: bytes | str
    if settings.exceptions_s3_uri:
        text = _read_s3(hub_client("s3"), settings.exceptions_s3_uri)
    else:
        text = _read_parameter(hub_client("ssm"), str(settings.exceptions_parameter))
    return load_exceptions_text(text, today, source)


def read_exceptions_file(path: Path, today: date) -> ExceptionSet:
    """The validated exceptions of a local file (the CLI's --exceptions FILE and `exceptions check`)."""
    return load_exceptions_text(_read_file(path), today, str(path))


def _read_file(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_EXCEPTIONS_BYTES:
            raise ExceptionsSourceError(f"exceptions file {path} is larger than {MAX_EXCEPTIONS_BYTES} bytes")
        return path.read_bytes()
    except OSError as error:
        raise ExceptionsSourceError(f"cannot read exceptions file {path}: {error.strerror}") from None


def _read_s3(s3: BaseClient, uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
        if response["ContentLength"] > MAX_EXCEPTIONS_BYTES:
            raise ExceptionsSourceError(f"exceptions file {uri} is larger than {MAX_EXCEPTIONS_BYTES} bytes")
        body: bytes = response["Body"].read()
        return body
    except (ClientError, BotoCoreError) as error:
        raise ExceptionsSourceError(f"cannot read exceptions file {uri}: {error_code(error)}") from None


def _read_parameter(ssm: BaseClient, name: str) -> str:
    try:
        # WithDecryption is harmless on a String parameter and required for a SecureString one.
        value: str = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
        return value
    except (ClientError, BotoCoreError) as error:
        raise ExceptionsSourceError(f"cannot read exceptions parameter {name}: {error_code(error)}") from None
