"""Per-number pacing (an extension of Vapi's API)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from orchestrator.listing import TimeRangeQuery
from orchestrator.wire import CAMEL_MODEL_CONFIG


class PacingIn(BaseModel):
    """``PUT /phone-number/{id}/pacing``: calls per second, and an optional concurrency cap."""

    model_config = CAMEL_MODEL_CONFIG

    calls_per_second: float = Field(alias="callsPerSecond", gt=0, le=1000)
    max_concurrency: int | None = Field(None, alias="maxConcurrency", ge=1, le=100_000)


class PhoneNumberListQuery(TimeRangeQuery):
    """Vapi's ``GET /phone-number`` filters."""
