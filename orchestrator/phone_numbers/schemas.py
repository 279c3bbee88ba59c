"""Caller numbers as Vapi's ``PhoneNumber`` with their pacing (our extension): bodies in and out.

The response models are Vapi's five kinds of number (``provider`` tells them apart), with the
fields we pass on from the provider (see ``wire``) and ``pacing``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from orchestrator.campaigns.schemas import ID_MAX_LENGTH
from orchestrator.listing import TimeRangeQuery
from orchestrator.wire import (
    CAMEL_MODEL_CONFIG,
    RESPONSE_MODEL_CONFIG,
    STORABLE_TEXT,
    Omitted,
    Timestamp,
)

# The provider's id of a number, as the path names it: looked up, or stored when pacing is set.
PhoneNumberId = Annotated[str, Path(pattern=STORABLE_TEXT)]
StoredPhoneNumberId = Annotated[str, Path(pattern=STORABLE_TEXT, max_length=ID_MAX_LENGTH)]


# One call every 2.8 hours. The limiter spaces calls 1/rate apart in microseconds and the
# campaign's finish is estimated at its rate: slower, both leave the ranges they are counted in.
MIN_CALLS_PER_SECOND = 0.0001


class PacingIn(BaseModel):
    """``PUT /phone-number/{id}/pacing``: the number's whole pacing, replaced: calls per
    second, an optional concurrency cap and texts per second. A field left out takes its
    default (no cap; 1 text per second), whatever it was before."""

    model_config = CAMEL_MODEL_CONFIG

    calls_per_second: float = Field(
        alias="callsPerSecond",
        gt=0,
        le=1000,
        json_schema_extra={"minimum": MIN_CALLS_PER_SECOND},
    )
    max_concurrency: int | None = Field(
        None,
        alias="maxConcurrency",
        ge=1,
        le=100_000,
        description="Calls in progress at once at most; left out or null: no cap.",
    )
    messages_per_second: float | None = Field(
        None,
        alias="messagesPerSecond",
        description="Extension: texts per second; left out or null: the default, 1.",
        gt=0,
        le=1000,
        json_schema_extra={"minimum": MIN_CALLS_PER_SECOND},
    )

    @field_validator("calls_per_second", "messages_per_second")
    @classmethod
    def _paceable(cls, value: float | None) -> float | None:
        # A bound of its own, after ``gt``: a rate of 0 is still told it must be positive.
        if value is not None and value < MIN_CALLS_PER_SECOND:
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
    messages_per_second: float = Field(description="Extension: texts per second (default 1).")


class PacingRecordOut(BaseModel):
    """``PUT /phone-number/{id}/pacing``: the org's pacing record of a number, by its id."""

    model_config = RESPONSE_MODEL_CONFIG

    id: str
    org_id: str
    created_at: Timestamp
    updated_at: Timestamp
    pacing: NumberPacingOut


class _PhoneNumberOut(BaseModel):
    """What every kind of number has; ``orgId`` is the caller's org."""

    model_config = RESPONSE_MODEL_CONFIG

    id: str
    org_id: str
    created_at: Timestamp
    updated_at: Timestamp
    status: Literal["active", "activating", "blocked"] | Omitted = None
    name: str | Omitted = None
    assistant_id: str | Omitted = None
    workflow_id: str | Omitted = None
    squad_id: str | Omitted = None
    pacing: NumberPacingOut = Field(description="Extension: the org's pacing of this number.")


class VapiPhoneNumberOut(_PhoneNumberOut):
    provider: Literal["vapi"]
    number: str | Omitted = None
    sip_uri: str | Omitted = None
    number_desired_area_code: str | Omitted = None


class TwilioPhoneNumberOut(_PhoneNumberOut):
    provider: Literal["twilio"]
    number: str
    twilio_account_sid: str
    sms_enabled: bool | Omitted = None


class ByoPhoneNumberOut(_PhoneNumberOut):
    provider: Literal["byo-phone-number"]
    number: str | Omitted = None
    credential_id: str
    number_e164_check_enabled: bool | Omitted = None


class VonagePhoneNumberOut(_PhoneNumberOut):
    provider: Literal["vonage"]
    number: str
    credential_id: str


class TelnyxPhoneNumberOut(_PhoneNumberOut):
    provider: Literal["telnyx"]
    number: str
    credential_id: str


PhoneNumberOut = Annotated[
    ByoPhoneNumberOut
    | TwilioPhoneNumberOut
    | VonagePhoneNumberOut
    | VapiPhoneNumberOut
    | TelnyxPhoneNumberOut,
    Field(discriminator="provider"),
]
