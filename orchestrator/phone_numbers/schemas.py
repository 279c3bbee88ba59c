"""Per-number pacing (an extension of Vapi's API)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.wire import CAMEL_MODEL_CONFIG


class PacingIn(BaseModel):
    """``PUT /phone-number/{id}/pacing``: calls per second, and an optional concurrency cap."""

    model_config = CAMEL_MODEL_CONFIG

    calls_per_second: float = Field(alias="callsPerSecond", gt=0, le=1000)
    max_concurrency: int | None = Field(None, alias="maxConcurrency", ge=1, le=100_000)


class PhoneNumberListQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    limit: int = Field(100, ge=0, le=1000)
    created_at_gt: datetime | None = Field(None, alias="createdAtGt")
    created_at_lt: datetime | None = Field(None, alias="createdAtLt")
    created_at_ge: datetime | None = Field(None, alias="createdAtGe")
    created_at_le: datetime | None = Field(None, alias="createdAtLe")
    updated_at_gt: datetime | None = Field(None, alias="updatedAtGt")
    updated_at_lt: datetime | None = Field(None, alias="updatedAtLt")
    updated_at_ge: datetime | None = Field(None, alias="updatedAtGe")
    updated_at_le: datetime | None = Field(None, alias="updatedAtLe")
