"""The base of every error the project raises on purpose; entry points map it to one clear line."""

from __future__ import annotations


class IamInventoryError(Exception):
    """An expected failure (bad input, configuration, discovery): its message is safe to show as-is."""
