"""The fan-out state machine's events: Discover's run pointer, and the worker's and finalize's input.

Step Functions hands these between the three handlers (statemachine/fanout.asl.json). One model each, so a
hand-started worker or a redriven execution with a malformed payload gets one clear line, not a KeyError.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from iam_inventory.config.events import RUN_ID_PATTERN, InvalidEvent
from iam_inventory.config.validation import describe_validation_error

Event = TypeVar("Event", bound=BaseModel)


class RunPointer(BaseModel):
    """Where a fan-out run's manifest and stored scans are: Discover's output, passed to every step."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str = Field(pattern=RUN_ID_PATTERN)
    bucket: str = Field(min_length=3, max_length=63)
    folder: str = Field(min_length=1)
    items_key: str = Field(min_length=1)
    accounts: int = Field(ge=0)


class WorkerEvent(BaseModel):
    """One Map item as the ItemSelector builds it: the account (decoded by the scan codec) and the run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account: dict[str, Any]
    run: RunPointer


class MapError(BaseModel):
    """What the Map state's Catch puts in `$.map_error`: the error name and its cause."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    error: str | None = Field(None, alias="Error")
    cause: str | None = Field(None, alias="Cause")


class FinalizeEvent(BaseModel):
    """Finalize's input: the run, and the Map's error when its tolerance was exceeded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run: RunPointer
    map_error: MapError | None = None


def parse_fanout_event(model: type[Event], event: Any) -> Event:
    """Validate a fan-out step's input; raise InvalidEvent naming every bad field."""
    if not isinstance(event, dict):
        raise InvalidEvent(f"event: must be a JSON object, got {type(event).__name__}")
    try:
        return model.model_validate(event)
    except ValidationError as error:
        raise InvalidEvent("invalid event: " + describe_validation_error(error, "event")) from None
