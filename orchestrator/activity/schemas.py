"""``GET /campaign/{id}/activity`` (extension): a campaign's calls over the last minutes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.campaigns.schemas import SmsCountersOut
from orchestrator.wire import RESPONSE_MODEL_CONFIG, Omitted, Timestamp


class ActivityQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    minutes: int = Field(10, ge=1, le=60, description="How far back the buckets reach.")
    # Outcomes count every call of the campaign: a page that refreshes often asks for them
    # now and then, not on every refresh.
    include_outcomes: bool = Field(True, alias="includeOutcomes")

    @property
    def bucket_seconds(self) -> int:
        """10 s up to ten minutes, then wider: never more than 60 buckets."""
        return 10 * -(-self.minutes // 10)


class ActivityBucketOut(BaseModel):
    model_config = RESPONSE_MODEL_CONFIG

    at: Timestamp = Field(description="The bucket's start.")
    dials: int = Field(description="Calls whose create request was sent in the bucket.")
    ended: int = Field(description="Calls sent to the provider that ended in the bucket.")
    in_flight: int = Field(description="Calls sent and not ended at the bucket's end.")


class CampaignActivityOut(BaseModel):
    """The campaign's dials, ends and calls in flight by bucket, oldest first; its calls'
    outcomes by ``endedReason`` and, for a campaign that texts, its texts."""

    model_config = RESPONSE_MODEL_CONFIG

    campaign_id: str
    bucket_seconds: int
    buckets: list[ActivityBucketOut]
    in_flight: int = Field(description="Calls sent and not ended now.")
    outcomes: dict[str, int] | Omitted = Field(
        None,
        description="Every ended call of the campaign by endedReason (``unknown`` when none); "
        "left out with includeOutcomes=false.",
    )
    texts: SmsCountersOut | Omitted = Field(None, description="Given for a campaign that texts.")
