"""``GET /v2/campaign/{id}/contacts/{contactId}`` (extension): a contact, its attempts and the
decisions taken about it, in Vapi's camelCase."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from orchestrator.calls.wire import WireCallStatus
from orchestrator.campaigns.v2_schemas import CampaignContactOut
from orchestrator.models.contact_decision import DecisionKind
from orchestrator.wire import RESPONSE_MODEL_CONFIG, Omitted, Timestamp


class ContactAttemptOut(BaseModel):
    """One attempt: a call of the contact (a ``/call`` id), in Vapi's call statuses."""

    model_config = RESPONSE_MODEL_CONFIG

    id: str = Field(description="The call's id (``GET /call/{id}``).")
    attempt: int
    status: WireCallStatus
    ended_reason: str | Omitted = None
    phone_number_id: str | Omitted = None
    provider_call_id: str | Omitted = Field(None, description="The provider's id of the call.")
    created_at: Timestamp = Field(description="When the attempt was claimed.")
    dialed_at: Timestamp | Omitted = Field(None, description="When its create was sent.")
    started_at: Timestamp | Omitted = None
    ended_at: Timestamp | Omitted = None


class ContactDecisionOut(BaseModel):
    """One decision the scheduler or the gate took about the contact."""

    model_config = RESPONSE_MODEL_CONFIG

    at: Timestamp
    kind: DecisionKind
    reason: str | Omitted = Field(
        None,
        description="Why: a deferral's reason, a skip's skipReason, a pre-dial verdict, "
        "where the gate found the number suppressed.",
    )
    retry_at: Timestamp | Omitted = Field(None, description="When it is tried again, if known.")
    call_id: str | Omitted = Field(None, description="The attempt the decision is about.")
    detail: dict[str, Any] | Omitted = None


class ContactHistoryOut(BaseModel):
    """Extension: a campaign contact as the contacts listing shows it, every attempt, and the
    decisions about it, oldest first (the latest ones when there are too many)."""

    model_config = RESPONSE_MODEL_CONFIG

    contact: CampaignContactOut
    attempts: list[ContactAttemptOut]
    decisions: list[ContactDecisionOut]
    decisions_truncated: int = Field(
        description="How many older decisions are left out (0: the history is whole)."
    )
