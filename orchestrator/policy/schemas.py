"""An org's compliance policy (``PUT /policy``): frequency caps, the default calling-hours
profile, and the opt-out plan campaigns inherit."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from orchestrator.models import Org
from orchestrator.scheduling.calling_hours.schemas import CallingHoursProfile
from orchestrator.wire import CAMEL_MODEL_CONFIG, RESPONSE_MODEL_CONFIG, Omitted, Text

MAX_FREQUENCY_CAPS = 10
# A year: caps count attempts back this far at most.
MAX_CAP_PERIOD_SECONDS = 366 * 86400

# What a cap counts: calls, texts, or both.
CapChannel = Literal["call", "sms"]


def _calls_only() -> list[CapChannel]:
    return ["call"]


class FrequencyCapIn(BaseModel):
    """At most ``maxAttempts`` attempts to one number within any ``periodSeconds``."""

    model_config = CAMEL_MODEL_CONFIG

    max_attempts: int = Field(alias="maxAttempts", ge=1, le=1000)
    period_seconds: int = Field(alias="periodSeconds", ge=60, le=MAX_CAP_PERIOD_SECONDS)
    # Extension: the attempts it counts (and holds back); calls only unless it says so.
    channels: list[CapChannel] = Field(default_factory=_calls_only, min_length=1, max_length=2)

    @field_validator("channels")
    @classmethod
    def _no_repeats(cls, value: list[CapChannel]) -> list[CapChannel]:
        if len(set(value)) != len(value):
            raise PydanticCustomError("unique_items", "must not name a channel twice")
        return value


class OptOutPlanIn(BaseModel):
    """What in an end-of-call report means the customer asked not to be contacted again."""

    model_config = CAMEL_MODEL_CONFIG

    # A key of ``analysis.structuredData`` whose value ``true`` is an opt-out.
    structured_data_key: Text | None = Field(
        None, alias="structuredDataKey", min_length=1, max_length=200
    )
    # ``endedReason`` values that are an opt-out.
    ended_reasons: list[Annotated[Text, Field(max_length=200)]] | None = Field(
        None, alias="endedReasons", max_length=200
    )

    @model_validator(mode="after")
    def _says_something(self) -> OptOutPlanIn:
        if self.structured_data_key is None and not self.ended_reasons:
            raise PydanticCustomError(
                "opt_out_plan", "must set structuredDataKey or endedReasons (or both)"
            )
        return self


class PolicyIn(BaseModel):
    model_config = CAMEL_MODEL_CONFIG

    frequency_caps: list[FrequencyCapIn] = Field(
        default_factory=list, alias="frequencyCaps", max_length=MAX_FREQUENCY_CAPS
    )
    calling_hours_profile: CallingHoursProfile | None = Field(None, alias="callingHoursProfile")
    opt_out_plan: OptOutPlanIn | None = Field(None, alias="optOutPlan")


def policy_of(org: Org) -> PolicyIn:
    """The org's stored policy (validated when it was stored); the empty policy when none."""
    return PolicyIn.model_validate(org.policy or {})


class FrequencyCapOut(BaseModel):
    model_config = RESPONSE_MODEL_CONFIG

    max_attempts: int
    period_seconds: int
    channels: list[CapChannel]


class OptOutPlanOut(BaseModel):
    model_config = RESPONSE_MODEL_CONFIG

    structured_data_key: str | Omitted = None
    ended_reasons: list[str] | Omitted = None


class PolicyOut(BaseModel):
    """``GET /policy``: the org's policy, every field present (an empty policy has no caps)."""

    model_config = RESPONSE_MODEL_CONFIG

    frequency_caps: list[FrequencyCapOut]
    calling_hours_profile: CallingHoursProfile | None
    opt_out_plan: OptOutPlanOut | None
