"""Keep secrets out of log lines, reports and exception messages."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

# A secret access key is 40 base64 characters; session tokens are long base64 blobs.
_SECRET_SHAPES = (
    re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"),
    re.compile(r"[A-Za-z0-9/+=]{100,}"),
)
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
        for shape in _SECRET_SHAPES:
            text = shape.sub(_MASK, text)
        return text
