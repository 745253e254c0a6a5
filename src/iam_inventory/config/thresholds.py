"""The rule thresholds as settings: the fields every rule's limit comes from (a base of `Settings`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from iam_inventory.models import Thresholds


class ThresholdSettings(BaseModel):
    """Rule thresholds read from the environment; `Settings` adds everything else."""

    model_config = ConfigDict(
        frozen=True, populate_by_name=True, extra="ignore", use_attribute_docstrings=True
    )

    max_key_age_days: int = Field(90, alias="MAX_KEY_AGE_DAYS", ge=1, le=3650)
    """`access_key_too_old` when an active key is older than this; `*_too_old` for the other credentials."""
    unused_key_days: int = Field(45, alias="UNUSED_KEY_DAYS", ge=1, le=3650)
    """`access_key_unused` when an active key was last used this many days ago or more."""
    never_used_grace_days: int = Field(7, alias="NEVER_USED_GRACE_DAYS", ge=0, le=3650)
    """`access_key_never_used` when a never-used active key is older than this (below MAX_KEY_AGE_DAYS)."""
    max_api_key_lifetime_days: int = Field(90, alias="MAX_API_KEY_LIFETIME_DAYS", ge=1, le=36600)
    """`api_key_lifetime_too_long` when an active Bedrock or CloudWatch Logs API key lives longer."""

    @property
    def thresholds(self) -> Thresholds:
        """The rule thresholds as plain data."""
        return Thresholds(
            max_key_age_days=self.max_key_age_days,
            unused_key_days=self.unused_key_days,
            never_used_grace_days=self.never_used_grace_days,
            max_api_key_lifetime_days=self.max_api_key_lifetime_days,
        )
