"""The suppression list on the wire: adding numbers, the listing and its query, one entry."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from orchestrator.campaigns.schemas import MAX_PAGE, PaginationMetaOut
from orchestrator.listing import MAX_LIMIT
from orchestrator.wire import CAMEL_MODEL_CONFIG, RESPONSE_MODEL_CONFIG, Text, Timestamp

MAX_NUMBERS = 100_000
MAX_SOURCE_LENGTH = 1000
# Far enough for any expiry; near enough that every timestamp we write of it stays in range.
LATEST_EXPIRY = datetime(9000, 1, 1, tzinfo=UTC)


class SuppressionReason(StrEnum):
    OPT_OUT = "opt-out"
    DNC = "dnc"
    COMPLAINT = "complaint"
    LEGAL = "legal"
    OTHER = "other"


def check_expiry(value: datetime | None) -> datetime | None:
    """An expiry must say its zone (a naive time would be read in the server's) and stay in
    range; that it is in the future is judged against the clock by the service."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise PydanticCustomError("timezone", "must include a timezone offset (e.g. Z)")
    if value >= LATEST_EXPIRY:
        raise PydanticCustomError("expiry_range", "must be before 9000-01-01T00:00:00Z")
    return value


class AddSuppressionIn(BaseModel):
    """Numbers to suppress, in E.164 or written with separators (``+1 (415) 555-0100``)."""

    model_config = ConfigDict(
        **CAMEL_MODEL_CONFIG,
        json_schema_extra={
            "examples": [{"numbers": ["+14155550100"], "reason": "dnc", "source": "registry"}]
        },
    )

    numbers: list[str] = Field(min_length=1, max_length=MAX_NUMBERS)
    reason: SuppressionReason
    source: Text | None = Field(None, max_length=MAX_SOURCE_LENGTH)
    expires_at: datetime | None = Field(None, alias="expiresAt")

    _expiry = field_validator("expires_at")(check_expiry)


class AddSuppressionOut(BaseModel):
    """Numbers new to the list (or replacing an expired entry), and those already on it."""

    model_config = RESPONSE_MODEL_CONFIG

    added: int
    already_present: int


class SuppressionListQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    number: Text | None = Field(None, max_length=200)
    reason: SuppressionReason | None = None
    limit: int = Field(100, ge=1, le=MAX_LIMIT)
    page: int = Field(1, ge=1, le=MAX_PAGE)


class SuppressionOut(BaseModel):
    """One number on the org's list; ``active`` (extension) is false once it has expired."""

    model_config = RESPONSE_MODEL_CONFIG

    number: str
    reason: SuppressionReason
    source: str | None
    created_at: Timestamp
    expires_at: Timestamp | None
    active: bool


class SuppressionPageOut(BaseModel):
    model_config = RESPONSE_MODEL_CONFIG

    results: list[SuppressionOut]
    metadata: PaginationMetaOut
