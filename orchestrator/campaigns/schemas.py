"""Campaign request and response bodies in Vapi's wire format (camelCase aliases)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.models.enums import CampaignStatus
from orchestrator.wire import CAMEL_MODEL_CONFIG


class CustomerIn(BaseModel):
    model_config = CAMEL_MODEL_CONFIG

    number_e164_check_enabled: bool = Field(True, alias="numberE164CheckEnabled")
    extension: str | None = Field(None, max_length=10)
    assistant_overrides: dict[str, Any] | None = Field(None, alias="assistantOverrides")
    squad_overrides: dict[str, Any] | None = Field(None, alias="squadOverrides")
    number: str | None = Field(None, min_length=3, max_length=40)
    sip_uri: str | None = Field(None, alias="sipUri")
    name: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=40)
    external_id: str | None = Field(None, alias="externalId", max_length=40)


class DialPlanEntryIn(BaseModel):
    model_config = CAMEL_MODEL_CONFIG

    phone_number_id: str = Field(alias="phoneNumberId", min_length=1)
    customers: list[CustomerIn]


class SchedulePlanIn(BaseModel):
    model_config = CAMEL_MODEL_CONFIG

    earliest_at: datetime = Field(alias="earliestAt")
    latest_at: datetime | None = Field(None, alias="latestAt")


class CreateCampaignIn(BaseModel):
    """Vapi's ``CreateCampaignDTO``."""

    model_config = CAMEL_MODEL_CONFIG

    name: str = Field(min_length=1, max_length=400)
    assistant_id: str | None = Field(None, alias="assistantId")
    workflow_id: str | None = Field(None, alias="workflowId")
    squad_id: str | None = Field(None, alias="squadId")
    phone_number_id: str | None = Field(None, alias="phoneNumberId")
    dial_plan: list[DialPlanEntryIn] | None = Field(None, alias="dialPlan")
    schedule_plan: SchedulePlanIn | None = Field(None, alias="schedulePlan")
    customers: list[CustomerIn] | None = None
    max_concurrency: int = Field(10, alias="maxConcurrency", ge=1, le=10_000)
    assistant_overrides: dict[str, Any] | None = Field(None, alias="assistantOverrides")
    squad_overrides: dict[str, Any] | None = Field(None, alias="squadOverrides")
    server: dict[str, Any] | None = None
    server_messages: list[str] | None = Field(None, alias="serverMessages")
    predial_plan: dict[str, Any] | None = Field(None, alias="predialPlan")
    duplicate_from_campaign_id: str | None = Field(None, alias="duplicateFromCampaignId")


class UpdateStatus(StrEnum):
    ENDED = "ended"
    CANCELLED = "cancelled"


class UpdateCampaignIn(BaseModel):
    """Vapi's ``UpdateCampaignDTO``."""

    model_config = CAMEL_MODEL_CONFIG

    name: str | None = Field(None, min_length=1, max_length=400)
    assistant_id: str | None = Field(None, alias="assistantId")
    workflow_id: str | None = Field(None, alias="workflowId")
    squad_id: str | None = Field(None, alias="squadId")
    phone_number_id: str | None = Field(None, alias="phoneNumberId")
    dial_plan: list[DialPlanEntryIn] | None = Field(None, alias="dialPlan")
    schedule_plan: SchedulePlanIn | None = Field(None, alias="schedulePlan")
    status: UpdateStatus | None = None


class SortOrder(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


class SortBy(StrEnum):
    CREATED_AT = "createdAt"
    DURATION = "duration"
    COST = "cost"


class CampaignListQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    id: str | None = None
    status: CampaignStatus | None = None
    page: int = Field(1, ge=1)
    sort_order: SortOrder = Field(SortOrder.DESC, alias="sortOrder")
    sort_by: SortBy = Field(SortBy.CREATED_AT, alias="sortBy")
    limit: int = Field(100, ge=0, le=1000)
    created_at_gt: datetime | None = Field(None, alias="createdAtGt")
    created_at_lt: datetime | None = Field(None, alias="createdAtLt")
    created_at_ge: datetime | None = Field(None, alias="createdAtGe")
    created_at_le: datetime | None = Field(None, alias="createdAtLe")
    updated_at_gt: datetime | None = Field(None, alias="updatedAtGt")
    updated_at_lt: datetime | None = Field(None, alias="updatedAtLt")
    updated_at_ge: datetime | None = Field(None, alias="updatedAtGe")
    updated_at_le: datetime | None = Field(None, alias="updatedAtLe")
