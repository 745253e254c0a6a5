"""IAM's paging (MaxItems, Marker, IsTruncated), shared by the moto patches."""

from __future__ import annotations

from typing import Any

IAM_DEFAULT_PAGE_SIZE = 100  # what IAM returns when MaxItems is not given
IAM_MAX_PAGE_SIZE = 1000  # MaxItems is 1..1000 on ListUsers and GetAccountAuthorizationDetails


def page_like_iam(response: Any, items: list[Any]) -> tuple[list[Any], dict[str, Any]]:
    """One page of `items` as IAM pages them (MaxItems, Marker, IsTruncated)."""
    page_size = min(int(response._get_param("MaxItems") or IAM_DEFAULT_PAGE_SIZE), IAM_MAX_PAGE_SIZE)
    start = int(response._get_param("Marker") or 0)
    end = start + page_size
    more: dict[str, Any] = {"IsTruncated": end < len(items)}
    if end < len(items):
        more["Marker"] = str(end)
    return items[start:end], more
