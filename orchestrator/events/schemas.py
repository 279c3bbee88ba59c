"""Campaign events on the wire: the listing, its query, and redelivery."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.campaigns.schemas import PaginationMetaOut
from orchestrator.listing import MAX_LIMIT
from orchestrator.wire import CAMEL_MODEL_CONFIG, RESPONSE_MODEL_CONFIG

MAX_PAGE = 1_000_000
MAX_REDELIVER_IDS = 1000


class EventStatusFilter(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class EventListQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    status: EventStatusFilter | None = None
    limit: int = Field(100, ge=1, le=MAX_LIMIT)
    page: int = Field(1, ge=1, le=MAX_PAGE)


class CampaignEventOut(BaseModel):
    """One campaign event and where its delivery stands."""

    model_config = RESPONSE_MODEL_CONFIG

    id: str
    campaign_id: str
    # Per campaign; null until the event is numbered (within a second of it).
    sequence: int | None
    event_type: str
    data: dict[str, Any]
    status: EventStatusFilter
    # Attempts in the current round of delivery (a redelivery starts a new round).
    attempts: int
    last_error: str | None
    occurred_at: str
    next_attempt_at: str | None
    delivered_at: str | None


class CampaignEventPageOut(BaseModel):
    model_config = RESPONSE_MODEL_CONFIG

    results: list[CampaignEventOut]
    metadata: PaginationMetaOut


class RedeliverIn(BaseModel):
    """No ids: every failed event of the campaign. Ids: those events, unless already pending."""

    model_config = CAMEL_MODEL_CONFIG

    event_ids: list[str] | None = Field(
        None, alias="eventIds", min_length=1, max_length=MAX_REDELIVER_IDS
    )


class RedeliverOut(BaseModel):
    model_config = RESPONSE_MODEL_CONFIG

    queued: int
