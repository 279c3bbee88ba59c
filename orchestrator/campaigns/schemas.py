"""Campaign request and response bodies in Vapi's wire format (camelCase aliases)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from orchestrator.calls.retry_plan import RetryPlanIn
from orchestrator.calls.wire import WireCallStatus
from orchestrator.campaigns.presence import (
    CREATED_STATUS_FIELD,
    DUPLICATE_FIELD,
    presence_errors,
)
from orchestrator.campaigns.text_plans import Channel, FollowUpPlanIn, SmsPlanIn
from orchestrator.listing import MAX_LIMIT, TimeRangeQuery
from orchestrator.models.enums import CampaignEndedReason, CampaignStatus
from orchestrator.policy.schemas import OptOutPlanIn
from orchestrator.scheduling.calling_hours.schemas import CallingHoursIn, check_timezone_name
from orchestrator.user_servers.schemas import CampaignEventType, PredialPlanIn, ServerIn
from orchestrator.wire import (
    CAMEL_MODEL_CONFIG,
    RESPONSE_MODEL_CONFIG,
    JsonObject,
    Omitted,
    Text,
    Timestamp,
    is_valid_e164,
    iso,
    validate_with_rules,
)

# Column sizes: longer input must be a 400, not a database error.
ID_MAX_LENGTH = 200
SIP_URI_MAX_LENGTH = 255
# Times a schedule may name: each is turned to UTC, and the scheduler looks days past it, all
# without leaving the years 1 to 9999 that Python's datetime can hold.
SCHEDULE_RANGE = (datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))
# A page's first row, (page - 1) * limit, is an offset Postgres takes as a bigint.
MAX_PAGE = (2**63 - 1) // MAX_LIMIT


class CustomerIn(BaseModel):
    model_config = CAMEL_MODEL_CONFIG

    number_e164_check_enabled: bool = Field(True, alias="numberE164CheckEnabled")
    extension: Text | None = Field(None, max_length=10)
    assistant_overrides: JsonObject | None = Field(None, alias="assistantOverrides")
    squad_overrides: JsonObject | None = Field(None, alias="squadOverrides")
    number: Text | None = Field(None, min_length=3, max_length=40)
    sip_uri: Text | None = Field(None, alias="sipUri", max_length=SIP_URI_MAX_LENGTH)
    name: Text | None = Field(None, max_length=40)
    email: Text | None = Field(None, max_length=40)
    external_id: Text | None = Field(None, alias="externalId", max_length=40)
    # Extension: the customer's IANA time zone for calling hours, when the number's region
    # is not precise enough.
    timezone: Text | None = Field(None, max_length=64)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone_name(value)

    @field_validator("sip_uri")
    @classmethod
    def _sip_key(cls, sip_uri: str | None) -> str | None:
        if sip_uri is not None and not sip_uri.strip():
            raise PydanticCustomError("blank", "must not be empty or blank")
        # Duplicates are found by the lower-cased URI, which some letters lengthen ("İ").
        if sip_uri is not None and len(sip_uri.strip().lower()) > SIP_URI_MAX_LENGTH:
            raise PydanticCustomError(
                "sip_uri_length",
                f"must be shorter than or equal to {SIP_URI_MAX_LENGTH} characters "
                "once lower-cased",
            )
        return sip_uri

    @field_validator("number")
    @classmethod
    def _e164(cls, number: str | None, info: ValidationInfo) -> str | None:
        # Declared after numberE164CheckEnabled, so that flag is already in ``info.data``.
        checked = info.data.get("number_e164_check_enabled", True)
        if number is not None and checked and not is_valid_e164(number):
            raise PydanticCustomError("e164", "must be a valid E.164 phone number")
        return number

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if self.number is None and self.sip_uri is None:
            raise PydanticCustomError("customer_destination", "must have a number or a sipUri")
        return self


class DialPlanEntryIn(BaseModel):
    model_config = CAMEL_MODEL_CONFIG

    phone_number_id: Text = Field(alias="phoneNumberId", min_length=1, max_length=ID_MAX_LENGTH)
    customers: list[CustomerIn]


class SchedulePlanIn(BaseModel):
    model_config = CAMEL_MODEL_CONFIG

    earliest_at: datetime = Field(alias="earliestAt")
    latest_at: datetime | None = Field(None, alias="latestAt")

    @field_validator("earliest_at", "latest_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        # A naive time would be read in the server's zone, not the caller's.
        if value.tzinfo is None:
            raise PydanticCustomError("timezone", "must include a timezone offset (e.g. Z)")
        low, high = SCHEDULE_RANGE
        if not low <= value < high:
            raise PydanticCustomError(
                "schedule_range", f"must be between {iso(low)} and {iso(high)}"
            )
        return value

    @field_validator("latest_at")
    @classmethod
    def _after_earliest(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        earliest = info.data.get("earliest_at")
        if value is not None and earliest is not None and value <= earliest:
            raise PydanticCustomError("schedule_order", "must be after earliestAt")
        return value


class CreateCampaignIn(BaseModel):
    """Vapi's ``CreateCampaignDTO``."""

    model_config = ConfigDict(
        **CAMEL_MODEL_CONFIG,
        json_schema_extra={
            "examples": [
                {
                    "name": "Spring reminders",
                    "assistantId": "assistant-1",
                    "phoneNumberId": "phone-1",
                    "customers": [{"number": "+14155550123", "name": "Ada"}],
                    "callingHours": {
                        "windows": [{"days": ["mon", "tue"], "start": "09:00", "end": "17:00"}]
                    },
                }
            ]
        },
    )

    name: Text = Field(min_length=1, max_length=400)
    assistant_id: Text | None = Field(None, alias="assistantId", max_length=ID_MAX_LENGTH)
    workflow_id: Text | None = Field(None, alias="workflowId", max_length=ID_MAX_LENGTH)
    squad_id: Text | None = Field(None, alias="squadId", max_length=ID_MAX_LENGTH)
    phone_number_id: Text | None = Field(None, alias="phoneNumberId", max_length=ID_MAX_LENGTH)
    dial_plan: list[DialPlanEntryIn] | None = Field(None, alias="dialPlan")
    schedule_plan: SchedulePlanIn | None = Field(None, alias="schedulePlan")
    customers: list[CustomerIn] | None = None
    max_concurrency: int = Field(10, alias="maxConcurrency", ge=1, le=10_000)
    assistant_overrides: JsonObject | None = Field(None, alias="assistantOverrides")
    squad_overrides: JsonObject | None = Field(None, alias="squadOverrides")
    server: ServerIn | None = None
    server_messages: list[CampaignEventType] | None = Field(None, alias="serverMessages")
    predial_plan: PredialPlanIn | None = Field(None, alias="predialPlan")
    duplicate_from_campaign_id: Text | None = Field(
        None,
        alias=DUPLICATE_FIELD,
        max_length=ID_MAX_LENGTH,
        description="A campaign of the org to copy: its settings and customers, under the "
        "fields this request gives.",
    )
    # Extensions beyond Vapi's fields.
    calling_hours: CallingHoursIn | None = Field(None, alias="callingHours")
    retry_plan: RetryPlanIn | None = Field(None, alias="retryPlan")
    opt_out_plan: OptOutPlanIn | None = Field(None, alias="optOutPlan")
    channel: Channel = Field(
        "call", description="call (Vapi's campaigns) or sms: one text per contact (smsPlan)."
    )
    sms_plan: SmsPlanIn | None = Field(None, alias="smsPlan")
    follow_up_plan: FollowUpPlanIn | None = Field(None, alias="followUpPlan")
    status: Literal["paused"] | None = Field(
        None,
        description="paused: the campaign is created paused, and may have no customers yet "
        "(POST /campaign/{id}/customers adds them; resume it with PATCH status).",
    )

    @model_validator(mode="wrap")
    @classmethod
    def _every_error_at_once(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        return validate_with_rules(data, handler, presence_errors)

    def given_fields(self) -> dict[str, Any]:
        """The top-level values :func:`presence_errors` judges, under their wire names."""
        return {
            "assistantId": self.assistant_id,
            "workflowId": self.workflow_id,
            "squadId": self.squad_id,
            "phoneNumberId": self.phone_number_id,
            "dialPlan": self.dial_plan,
            "customers": self.customers,
            "server": self.server,
            "predialPlan": self.predial_plan,
            DUPLICATE_FIELD: self.duplicate_from_campaign_id,
            CREATED_STATUS_FIELD: self.status,
        }


class UpdateStatus(StrEnum):
    ENDED = "ended"
    CANCELLED = "cancelled"
    # Extension: pause, and resume with either of the statuses a running campaign has.
    PAUSED = "paused"
    IN_PROGRESS = "in-progress"
    SCHEDULED = "scheduled"


class UpdateCampaignIn(BaseModel):
    """Vapi's ``UpdateCampaignDTO``."""

    model_config = CAMEL_MODEL_CONFIG

    name: Text | None = Field(None, min_length=1, max_length=400)
    assistant_id: Text | None = Field(None, alias="assistantId", max_length=ID_MAX_LENGTH)
    workflow_id: Text | None = Field(None, alias="workflowId", max_length=ID_MAX_LENGTH)
    squad_id: Text | None = Field(None, alias="squadId", max_length=ID_MAX_LENGTH)
    phone_number_id: Text | None = Field(None, alias="phoneNumberId", max_length=ID_MAX_LENGTH)
    dial_plan: list[DialPlanEntryIn] | None = Field(None, alias="dialPlan")
    schedule_plan: SchedulePlanIn | None = Field(None, alias="schedulePlan")
    status: UpdateStatus | None = None
    calling_hours: CallingHoursIn | None = Field(None, alias="callingHours")
    retry_plan: RetryPlanIn | None = Field(None, alias="retryPlan")
    opt_out_plan: OptOutPlanIn | None = Field(None, alias="optOutPlan")
    sms_plan: SmsPlanIn | None = Field(None, alias="smsPlan")
    follow_up_plan: FollowUpPlanIn | None = Field(None, alias="followUpPlan")


class SortOrder(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


class SortBy(StrEnum):
    CREATED_AT = "createdAt"
    DURATION = "duration"
    COST = "cost"


class CampaignListQuery(TimeRangeQuery):
    id: Text | None = None
    status: CampaignStatus | None = None
    page: int = Field(1, ge=1, le=MAX_PAGE)
    sort_order: SortOrder = Field(SortOrder.DESC, alias="sortOrder")
    sort_by: SortBy = Field(SortBy.CREATED_AT, alias="sortBy")


# --- Responses: what campaigns/wire.py builds, field for field ------------------------------


class CustomerOut(BaseModel):
    """A customer as it was posted (Vapi's ``CreateCustomerDTO``), without its checks."""

    model_config = RESPONSE_MODEL_CONFIG

    number_e164_check_enabled: bool | None = None
    extension: str | None = None
    assistant_overrides: dict[str, Any] | None = None
    squad_overrides: dict[str, Any] | None = None
    number: str | None = None
    sip_uri: str | None = None
    name: str | None = None
    email: str | None = None
    external_id: str | None = None
    timezone: str | None = None


class DialPlanEntryOut(BaseModel):
    model_config = RESPONSE_MODEL_CONFIG

    phone_number_id: str | None
    customers: list[CustomerOut]


class SchedulePlanOut(BaseModel):
    model_config = RESPONSE_MODEL_CONFIG

    earliest_at: Timestamp
    latest_at: Timestamp | Omitted = None


class CampaignCallOut(BaseModel):
    """Where one of the campaign's calls stands (a value of the campaign's ``calls`` map)."""

    model_config = RESPONSE_MODEL_CONFIG

    customer: CustomerOut | None
    status: WireCallStatus
    ended_reason: str | None
    started_at: Timestamp | None
    ended_at: Timestamp | None


class ContactCountersOut(BaseModel):
    """Extension: the campaign's contacts by status, and how many it has."""

    model_config = RESPONSE_MODEL_CONFIG

    pending: int
    dispatched: int
    completed: int
    failed: int
    skipped: int
    predial_failed: int
    total: int


class CampaignCountersOut(BaseModel):
    model_config = RESPONSE_MODEL_CONFIG

    calls_scheduled: int = Field(alias="callsCounterScheduled")
    calls_queued: int = Field(alias="callsCounterQueued")
    calls_in_progress: int = Field(alias="callsCounterInProgress")
    calls_ended_voicemail: int = Field(alias="callsCounterEndedVoicemail")
    calls_ended: int = Field(alias="callsCounterEnded")
    contact_counters: ContactCountersOut


# Why pending contacts wait; the pacing insight counts them by reason, leaving out the others.
WaitingReason = Literal[
    "paused",
    "windowClosed",
    "callingHours",
    "retryDelay",
    "frequencyCap",
    "concurrency",
    "rate",
    "predialCheck",
]


class StuckCallsOut(BaseModel):
    """Calls holding capacity for longer than a call can last at the provider."""

    model_config = RESPONSE_MODEL_CONFIG

    older_than_seconds: float
    org: int
    campaign: int
    phone_numbers: dict[str, int]


class PacingInsightOut(BaseModel):
    """Extension: why contacts wait and when the campaign should finish at current rates."""

    model_config = RESPONSE_MODEL_CONFIG

    waiting: dict[WaitingReason, int]
    estimated_finish_at: Timestamp | None
    sustainable_calls_per_second: float
    limited_by: Literal["concurrency", "rate"]
    stuck_calls: StuckCallsOut


class SmsCountersOut(BaseModel):
    """Extension: the campaign's texts by delivery (``queued`` includes those being sent),
    and its sessions the customer replied in or opted out of."""

    model_config = RESPONSE_MODEL_CONFIG

    queued: int
    sent: int
    failed: int
    replied: int
    opted_out: int


class CampaignOut(BaseModel):
    """Vapi's ``Campaign``, then our extensions (``contactCounters``, ``callingHours``...)."""

    model_config = RESPONSE_MODEL_CONFIG

    id: str
    org_id: str
    name: str
    status: CampaignStatus
    ended_reason: CampaignEndedReason | Omitted = None
    assistant_id: str | Omitted = None
    workflow_id: str | Omitted = None
    squad_id: str | Omitted = None
    phone_number_id: str | Omitted = None
    customers: list[CustomerOut] | Omitted = None
    dial_plan: list[DialPlanEntryOut] | Omitted = None
    schedule_plan: SchedulePlanOut | Omitted = None
    max_concurrency: int
    assistant_overrides: dict[str, Any] | Omitted = None
    squad_overrides: dict[str, Any] | Omitted = None
    server: dict[str, Any] | Omitted = None
    server_messages: list[str] | Omitted = None
    predial_plan: dict[str, Any] | Omitted = None
    created_at: Timestamp
    updated_at: Timestamp
    calls: dict[str, CampaignCallOut] = Field(
        description="The campaign's calls by provider call id."
    )
    calls_scheduled: int = Field(alias="callsCounterScheduled")
    calls_queued: int = Field(alias="callsCounterQueued")
    calls_in_progress: int = Field(alias="callsCounterInProgress")
    calls_ended_voicemail: int = Field(alias="callsCounterEndedVoicemail")
    calls_ended: int = Field(alias="callsCounterEnded")
    contact_counters: ContactCountersOut
    calling_hours: CallingHoursIn | Omitted = None
    retry_plan: RetryPlanIn | Omitted = None
    opt_out_plan: OptOutPlanIn | Omitted = None
    channel: Channel | Omitted = None
    sms_plan: SmsPlanIn | Omitted = None
    follow_up_plan: FollowUpPlanIn | Omitted = None
    sms_counters: SmsCountersOut | Omitted = Field(
        None, description="Given when one campaign that texts is read."
    )
    paused_at: Timestamp | Omitted = None
    pacing: PacingInsightOut | Omitted = Field(
        None, description="Given when one campaign is read, updated or deleted."
    )


class PaginationMetaOut(BaseModel):
    model_config = RESPONSE_MODEL_CONFIG

    items_per_page: int
    total_items: int
    current_page: int
    total_pages: int
    has_next_page: bool
    sort_order: SortOrder


class CampaignPageOut(BaseModel):
    """Vapi's ``CampaignPaginatedResponse``."""

    model_config = RESPONSE_MODEL_CONFIG

    results: list[CampaignOut]
    metadata: PaginationMetaOut


class ReconcileOut(BaseModel):
    """Extension: the drift found (per counter, what was added to correct it), the counters now."""

    model_config = RESPONSE_MODEL_CONFIG

    campaign_id: str
    drift: dict[str, int]
    counters: CampaignCountersOut
