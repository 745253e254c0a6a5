"""Keep secrets out of log lines, reports and exception messages."""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any

# A secret access key is 40 base64 characters; session tokens are long base64 blobs.
_SECRET_SHAPES = (
    re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"),
    re.compile(r"[A-Za-z0-9/+=]{100,}"),
)
# Values that are secret by their field name, whatever their shape: botocore's DEBUG logs print
# request parameters ('ExternalId': '...', ExternalId=...), canonical requests
# (x-amz-security-token:...) and raw response bodies (<SecretAccessKey>...</SecretAccessKey>).
_SECRET_FIELDS = re.compile(
    r"(?P<name>SecretAccessKey|SessionToken|ExternalId|X-Amz-Security-Token|aws_secret_access_key"
    r"|aws_session_token|secret_access_key|session_token)"
    r"(?P<sep>\\?['\"]?\s*[:=>]\s*b?\\?['\"]?)(?P<value>[^'\"<\s,}&\\]+)",
    re.IGNORECASE,
)
# An SSM SecureString's value is a secret by definition (the ExternalId is read from one before the
# job knows it, and botocore logs the GetParameter response body at DEBUG).
_SECURE_STRING_VALUE = re.compile(r"(['\"]Value['\"]\s*:\s*)(['\"])(?:(?!\2).)*\2")
# Credential bodies and the secrets of service-specific credentials, masked whole (a body spans lines):
# as an XML element in botocore's raw response bodies, and as a quoted value in parsed responses and
# request parameters. ListSigningCertificates returns each CertificateBody; a ServicePassword or
# ServiceCredentialSecret and an SSHPublicKeyBody come only from calls the job does not make
# (Create/Reset, GetSSHPublicKey), and are masked should one ever be made.
_BODY_NAMES = r"CertificateBody|SSHPublicKeyBody|ServicePassword|ServiceCredentialSecret"
_BODY_ELEMENT = re.compile(rf"<(?P<tag>{_BODY_NAMES})>.*?</(?P=tag)>", re.DOTALL)
_BODY_VALUE = re.compile(rf"((?:{_BODY_NAMES})\\?['\"]\s*:\s*)(\\?['\"])(?:(?!\2).)*\2", re.DOTALL)
_MASK = "***"


class Redactor:
    """Masks known secret values (and anything shaped like one) in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = {secret for secret in secrets if secret}

    def add(self, *secrets: str | None) -> None:
        """Remember more values to mask (credentials of a new session, the ExternalId)."""
        with self._lock:
            self._secrets.update(secret for secret in secrets if secret and len(secret) >= 4)

    def __call__(self, text: str) -> str:
        """The text with every known secret and secret-shaped string masked."""
        with self._lock:
            known = sorted(self._secrets, key=len, reverse=True)
        for secret in known:
            text = text.replace(secret, _MASK)
        text = _SECRET_FIELDS.sub(lambda match: f"{match['name']}{match['sep']}{_MASK}", text)
        text = _BODY_ELEMENT.sub(lambda match: f"<{match['tag']}>{_MASK}</{match['tag']}>", text)
        text = _BODY_VALUE.sub(rf"\1\2{_MASK}\2", text)
        if "SecureString" in text:
            text = _SECURE_STRING_VALUE.sub(rf"\1\2{_MASK}\2", text)
        for shape in _SECRET_SHAPES:
            text = shape.sub(_MASK, text)
        return text


class RedactedError(Exception):
    """Stands in, in a log record, for an exception whose traceback carried a secret."""


# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_install_lock = threading.Lock()
_original_factory: Callable[..., logging.LogRecord] | None = None


def redact_record(record: logging.LogRecord, redact: Redactor) -> logging.LogRecord:
    """Mask secrets in a record's message, its `extra` fields and its exception, in place."""
    if isinstance(record.msg, dict | list):
        record.msg = redact_value(record.msg, redact)
    else:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call would make logging print the raw args to stderr
            message = f"{record.msg} (arguments could not be formatted)"
        record.msg, record.args = redact(message), None
    for name, value in list(vars(record).items()):
        if name not in _RECORD_ATTRIBUTES:
            setattr(record, name, redact_value(value, redact))
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info))
        clean = redact(text)
        if clean != text:
            record.exc_info = (RedactedError, RedactedError(clean), None)
            record.exc_text = None
    return record


def redact_value(value: Any, redact: Redactor) -> Any:
    """A copy of a log field with every string in it redacted (dicts, lists and tuples walked)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item, redact) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(item, redact) for item in value]
    return value


def install_log_redaction(redact: Redactor) -> None:
    """Redact every log record of the process (botocore's DEBUG output included) when it is created.

    A record factory rather than a logging.Filter: filters on a logger miss records propagated from
    child loggers (botocore.*), and filters on handlers miss handlers added later (Lambda's, pytest's,
    boto3.set_stream_logger). Records are only created for enabled levels, so the cost is paid only
    when DEBUG is on. Installing again swaps the redactor (the newest run's secrets) without chaining.
    """
    global _original_factory
    with _install_lock:
        if _original_factory is None:
            _original_factory = logging.getLogRecordFactory()
        original = _original_factory

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return redact_record(original(*args, **kwargs), redact)

        logging.setLogRecordFactory(factory)
