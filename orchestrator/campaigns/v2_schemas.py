"""Vapi's v2 campaign bodies: the v1 create under v2's rules, ``CampaignSummary`` and the contacts
listing (``CampaignContactWithOutcome``), with our extensions."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal, Self, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    field_validator,
    model_validator,
)

from orchestrator.calls.retry_plan import RetryPlanIn
from orchestrator.campaigns.presence import v1_only_errors, v2_presence_errors
from orchestrator.campaigns.schemas import (
    MAX_PAGE,
    CampaignListQuery,
    ContactCountersOut,
    CreateCampaignIn,
    PacingInsightOut,
    PaginationMetaOut,
    SchedulePlanOut,
    SmsCountersOut,
    UpdateCampaignIn,
)
from orchestrator.campaigns.text_plans import Channel, FollowUpPlanIn, SmsPlanIn
from orchestrator.contacts.states import ContactStatus
from orchestrator.listing import MAX_LIMIT
from orchestrator.models.enums import CampaignEndedReason, CampaignStatus
from orchestrator.policy.schemas import OptOutPlanIn
from orchestrator.scheduling.calling_hours.schemas import CallingHoursIn
from orchestrator.wire import (
    RESPONSE_MODEL_CONFIG,
    Omitted,
    Timestamp,
    validate_with_rules,
)


class CreateCampaignV2In(CreateCampaignIn):
    """Vapi's ``CreateCampaignDTO`` as ``POST /v2/campaign`` takes it: ``workflowId`` and
    ``dialPlan`` are v1's and refused."""

    @model_validator(mode="wrap")
    @classmethod
    def _every_error_at_once(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        return validate_with_rules(data, handler, v2_presence_errors)


def v2_update_errors(body: UpdateCampaignIn) -> list[str]:
    """``PATCH /v2/campaign/{id}`` takes no ``workflowId`` (v1 already refuses a dialPlan)."""
    if body.workflow_id is None:
        return []
    return v1_only_errors({"workflowId": body.workflow_id})


class CampaignV2ListQuery(CampaignListQuery):
    include_counters: bool = Field(False, alias="includeCounters")


class CampaignV2Query(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    # Vapi's default is false; one campaign's counters cost us little, so they are given
    # unless asked not to be.
    include_counters: bool = Field(True, alias="includeCounters")


# --- the contacts listing -------------------------------------------------------------------

# Vapi's contact statuses on the wire, in its declaration order (the order sortBy=status uses).
WireContactStatus = Literal[
    "contact.pending",
    "contact.dispatched",
    "contact.completed",
    "contact.failed",
    "contact.skipped",
    "contact.predial-failed",
]
CONTACT_STATUS_PREFIX = "contact."
assert [CONTACT_STATUS_PREFIX + status.value for status in ContactStatus] == list(
    get_args(WireContactStatus)
), "ContactStatus is declared in Vapi's order: the status sort and its index rely on it"


class ContactSortBy(StrEnum):
    POSITION = "position"
    STATUS = "status"


class ContactListQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    status: list[WireContactStatus] | None = Field(
        None,
        description="Repeat the parameter (or separate with commas) for several statuses.",
    )
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    page: int = Field(1, ge=1, le=MAX_PAGE)
    sort_by: ContactSortBy = Field(ContactSortBy.POSITION, alias="sortBy")

    @field_validator("status", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [part for item in value for part in str(item).split(",") if part]
        return value

    def statuses(self) -> list[ContactStatus] | None:
        if not self.status:
            return None
        wanted = {ContactStatus(name.removeprefix(CONTACT_STATUS_PREFIX)) for name in self.status}
        return [status for status in ContactStatus if status in wanted]


class SkipReason(StrEnum):
    """Extension: why a contact was skipped (``skipReason``)."""

    ENDED_BY_USER = "ended-by-user"
    WINDOW_CLOSED = "window-closed"
    NOT_ELIGIBLE = "not-eligible"
    SUPPRESSED = "suppressed"
    FREQUENCY_CAP = "frequency-cap"


class LastTextOut(BaseModel):
    """Where a contact's last text stands: its delivery and the chat and session it is."""

    model_config = RESPONSE_MODEL_CONFIG

    status: Literal["queued", "sent", "failed"]
    reason: str | Omitted = None
    chat_id: str
    session_id: str | Omitted = None


class CampaignContactOut(BaseModel):
    """Vapi's ``CampaignContactWithOutcome``, then our extensions."""

    model_config = RESPONSE_MODEL_CONFIG

    id: str
    number: str = Field(description="The customer's number, or its sipUri when it has none.")
    name: str | Omitted = None
    status: WireContactStatus
    call_id: str | Omitted = Field(None, description="The id of the last attempt's call.")
    dispatched_at: Timestamp | Omitted = Field(
        None, description="When the last attempt was dispatched (its call claimed)."
    )
    ended_reason: str | Omitted = Field(None, description="The last attempt's endedReason.")
    sip_uri: str | Omitted = None
    skip_reason: SkipReason | Omitted = Field(
        None, description="Extension: why a skipped contact was skipped."
    )
    last_text: LastTextOut | Omitted = Field(
        None, description="Extension: the contact's last text (its campaign text or follow-up)."
    )


class CampaignContactPageOut(BaseModel):
    """Vapi's ``CampaignContactPaginatedResponse``."""

    model_config = RESPONSE_MODEL_CONFIG

    results: list[CampaignContactOut]
    metadata: PaginationMetaOut


# --- CampaignSummary --------------------------------------------------------------------------


class CallMetricsOut(BaseModel):
    """Vapi's ``CampaignCallMetrics``: calls the provider took, and those a person answered."""

    model_config = RESPONSE_MODEL_CONFIG

    dialed: int
    connected: int


class CampaignSummaryOut(BaseModel):
    """Vapi's ``CampaignSummary``, then our extensions (``workflowId`` of a v1 campaign,
    ``callingHours``, ``retryPlan``, ``optOutPlan``, ``pausedAt``, ``pacing``)."""

    model_config = RESPONSE_MODEL_CONFIG

    id: str
    org_id: str
    name: str
    status: CampaignStatus
    ended_reason: CampaignEndedReason | Omitted = None
    assistant_id: str | Omitted = None
    squad_id: str | Omitted = None
    workflow_id: str | Omitted = None
    phone_number_id: str | Omitted = None
    schedule_plan: SchedulePlanOut | Omitted = None
    max_concurrency: int
    assistant_overrides: dict[str, Any] | Omitted = None
    squad_overrides: dict[str, Any] | Omitted = None
    server: dict[str, Any] | Omitted = None
    server_messages: list[str] | Omitted = None
    predial_plan: dict[str, Any] | Omitted = None
    contact_counters: ContactCountersOut | Omitted = None
    call_metrics: CallMetricsOut | Omitted = None
    created_at: Timestamp
    updated_at: Timestamp
    calling_hours: CallingHoursIn | Omitted = None
    retry_plan: RetryPlanIn | Omitted = None
    opt_out_plan: OptOutPlanIn | Omitted = None
    sms_plan: SmsPlanIn | Omitted = None
    follow_up_plan: FollowUpPlanIn | Omitted = None
    channel: Channel | Omitted = None
    sms_counters: SmsCountersOut | Omitted = Field(
        None, description="Given when one campaign that texts is read with its counters."
    )
    paused_at: Timestamp | Omitted = None
    pacing: PacingInsightOut | Omitted = Field(
        None, description="Given when one campaign is read with its counters."
    )


class CampaignSummaryPageOut(BaseModel):
    """Vapi's ``CampaignSummaryPaginatedResponse``."""

    model_config = RESPONSE_MODEL_CONFIG

    results: list[CampaignSummaryOut]
    metadata: PaginationMetaOut
