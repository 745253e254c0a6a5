"""The invocation event: what the schedule sends, or what an engineer sends by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from iam_inventory.config.settings import AccountId
from iam_inventory.config.validation import describe_validation_error
from iam_inventory.core.errors import IamInventoryError
from iam_inventory.models import Thresholds

RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"


class InvalidEvent(IamInventoryError, ValueError):
    """The event is malformed; the message names the field."""


class ThresholdOverrides(BaseModel):
    """Per-run threshold overrides; unset fields keep the configured values."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    max_key_age_days: int | None = Field(None, ge=1, le=3650)
    unused_key_days: int | None = Field(None, ge=1, le=3650)
    never_used_grace_days: int | None = Field(None, ge=0, le=3650)
    max_api_key_lifetime_days: int | None = Field(None, ge=1, le=36600)

    def apply(self, base: Thresholds) -> Thresholds:
        """Thresholds with these overrides laid over `base`."""
        merged = Thresholds(
            max_key_age_days=self.max_key_age_days or base.max_key_age_days,
            unused_key_days=self.unused_key_days or base.unused_key_days,
            never_used_grace_days=(
                base.never_used_grace_days
                if self.never_used_grace_days is None
                else self.never_used_grace_days
            ),
            max_api_key_lifetime_days=self.max_api_key_lifetime_days or base.max_api_key_lifetime_days,
        )
        if merged.never_used_grace_days >= merged.max_key_age_days:
            raise InvalidEvent(
                "event.thresholds: never_used_grace_days must be smaller than max_key_age_days"
            )
        return merged


class RunRequest(BaseModel):
    """A validated invocation event."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    source: Literal["schedule", "manual"] = "manual"
    run_id: str | None = Field(None, pattern=RUN_ID_PATTERN)
    scheduled_time: datetime | None = None
    accounts: tuple[AccountId, ...] | None = Field(None, min_length=1, max_length=10_000)
    thresholds: ThresholdOverrides | None = None
    dry_run: bool = False
    # A manual run that should move latest.json and become the baseline, like a scheduled one.
    baseline: bool = False

    @field_validator("baseline")
    @classmethod
    def _baseline_without_overrides(cls, value: bool, info: ValidationInfo) -> bool:
        # accounts and thresholds are declared before baseline, so they are validated already.
        overridden = [name for name in ("accounts", "thresholds") if info.data.get(name)]
        if value and overridden:
            raise ValueError(f"a run that overrides {' and '.join(overridden)} cannot become the baseline")
        return value

    @property
    def overrides(self) -> tuple[str, ...]:
        """What this event overrides of the configuration: such a run is never the baseline."""
        return tuple(
            name for name, value in (("accounts", self.accounts), ("thresholds", self.thresholds)) if value
        )

    @field_validator("scheduled_time", mode="before")
    @classmethod
    def _parse_time(cls, value: Any) -> Any:
        # strict mode refuses strings for datetimes, but the schedule sends an ISO 8601 string.
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError("must be an ISO 8601 timestamp such as 2026-11-23T06:00:00Z") from None
            parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
            try:
                # The run id is built from the UTC time: 0001-01-01T00:00+01:00 has none.
                return parsed.astimezone(UTC)
            except OverflowError:
                raise ValueError("must be a timestamp that exists in UTC (years 1 to 9999)") from None
        return value

    @field_validator("accounts", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @classmethod
    def from_event(cls, event: Any) -> RunRequest:
        """Validate a raw event; raise InvalidEvent naming every bad field."""
        if event is None:
            event = {}
        if not isinstance(event, dict):
            raise InvalidEvent(f"event: must be a JSON object, got {type(event).__name__}")
        try:
            return cls.model_validate(event)
        except ValidationError as error:
            raise InvalidEvent("invalid event: " + describe_validation_error(error, "event")) from None

    def resolve_run_id(self, now: datetime, request_id: str) -> str:
        """The run id: given, else derived so that a retried invocation reuses its own run's keys."""
        if self.run_id:
            return self.run_id
        if self.scheduled_time:
            return self.scheduled_time.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") + "-scheduled"
        # Lambda keeps the request id across async retries, so a retry overwrites its own run.
        suffix = "".join(ch for ch in request_id if ch.isalnum() or ch == "-")[:40]
        if suffix:
            return f"manual-{suffix}"
        return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") + "-manual"
