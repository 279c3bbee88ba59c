"""Caller numbers and their pacing (an extension of Vapi's API): the bodies in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from orchestrator.campaigns.schemas import ID_MAX_LENGTH
from orchestrator.listing import TimeRangeQuery
from orchestrator.wire import CAMEL_MODEL_CONFIG, RESPONSE_MODEL_CONFIG, STORABLE_TEXT, Timestamp

# The provider's id of a number, as the path names it: looked up, or stored when pacing is set.
PhoneNumberId = Annotated[str, Path(pattern=STORABLE_TEXT)]
StoredPhoneNumberId = Annotated[str, Path(pattern=STORABLE_TEXT, max_length=ID_MAX_LENGTH)]


# One call every 2.8 hours. The limiter spaces calls 1/rate apart in microseconds and the
# campaign's finish is estimated at its rate: slower, both leave the ranges they are counted in.
MIN_CALLS_PER_SECOND = 0.0001


class PacingIn(BaseModel):
    """``PUT /phone-number/{id}/pacing``: calls per second, and an optional concurrency cap."""

    model_config = CAMEL_MODEL_CONFIG

    calls_per_second: float = Field(
        alias="callsPerSecond",
        gt=0,
        le=1000,
        json_schema_extra={"minimum": MIN_CALLS_PER_SECOND},
    )
    max_concurrency: int | None = Field(None, alias="maxConcurrency", ge=1, le=100_000)

    @field_validator("calls_per_second")
    @classmethod
    def _paceable(cls, value: float) -> float:
        # A bound of its own, after ``gt``: a rate of 0 is still told it must be positive.
        if value < MIN_CALLS_PER_SECOND:
            raise PydanticCustomError(
                "greater_than_equal", "must not be less than {ge}", {"ge": MIN_CALLS_PER_SECOND}
            )
        return value


class PhoneNumberListQuery(TimeRangeQuery):
    """Vapi's ``GET /phone-number`` filters."""


class NumberPacingOut(BaseModel):
    """The number's pacing; ``isDefault`` when nobody set it and the defaults apply."""

    model_config = RESPONSE_MODEL_CONFIG

    calls_per_second: float
    max_concurrency: int | None
    is_default: bool


class PhoneNumberOut(BaseModel):
    """A caller number the org's campaigns and calls use, by the provider's id."""

    model_config = RESPONSE_MODEL_CONFIG

    id: str
    org_id: str
    created_at: Timestamp
    updated_at: Timestamp
    pacing: NumberPacingOut
