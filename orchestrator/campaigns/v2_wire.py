"""Campaigns in Vapi's v2 shapes: ``CampaignSummary`` and the contacts listing."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.calls.retry_plan import RETRY_PLAN_EXTENSION
from orchestrator.campaigns.counters import counters_to_wire
from orchestrator.campaigns.text_plans import FOLLOW_UP_PLAN_EXTENSION, SMS_PLAN_EXTENSION
from orchestrator.campaigns.text_repository import LastText
from orchestrator.campaigns.v2_schemas import CONTACT_STATUS_PREFIX, SkipReason
from orchestrator.campaigns.wire import channel_to_wire, schedule_plan_to_wire
from orchestrator.contacts.listing_repository import ListedContact
from orchestrator.contacts.states import ContactStatus
from orchestrator.listing import page_metadata
from orchestrator.models import Campaign, CampaignCounters
from orchestrator.reasons import (
    CAMPAIGN_STOPPED,
    FREQUENCY_CAP,
    PREDIAL_NOT_ELIGIBLE,
    SUPPRESSED,
    TEXT_WITHDRAWN_BY_USER,
    WINDOW_CLOSED,
)
from orchestrator.scheduling.policy import CALLING_HOURS_FIELD
from orchestrator.suppression.opt_outs import OPT_OUT_PLAN_EXTENSION
from orchestrator.texts.states import wire_status
from orchestrator.wire import iso

# A skipped contact's ``status_reason`` as the ``skipReason`` extension tells it.
SKIP_REASONS: dict[str, SkipReason] = {
    CAMPAIGN_STOPPED: SkipReason.ENDED_BY_USER,
    WINDOW_CLOSED: SkipReason.WINDOW_CLOSED,
    PREDIAL_NOT_ELIGIBLE: SkipReason.NOT_ELIGIBLE,
    SUPPRESSED: SkipReason.SUPPRESSED,
    FREQUENCY_CAP: SkipReason.FREQUENCY_CAP,
    TEXT_WITHDRAWN_BY_USER: SkipReason.ENDED_BY_USER,
}
# Our extensions a summary shows, by their key in ``Campaign.extensions``.
SUMMARY_EXTENSIONS = (
    CALLING_HOURS_FIELD,
    RETRY_PLAN_EXTENSION,
    OPT_OUT_PLAN_EXTENSION,
    SMS_PLAN_EXTENSION,
    FOLLOW_UP_PLAN_EXTENSION,
)


def call_metrics_to_wire(dialed: int, connected: int) -> dict[str, int]:
    return {"dialed": dialed, "connected": connected}


def summary_to_wire(
    campaign: Campaign,
    *,
    counters: CampaignCounters | None = None,
    call_metrics: tuple[int, int] | None = None,
    pacing: dict[str, Any] | None = None,
    sms_counters: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Vapi's ``CampaignSummary``; the counters and call metrics when given."""
    extensions = campaign.extensions or {}
    body: dict[str, Any] = {
        "id": str(campaign.id),
        "orgId": str(campaign.org_id),
        "name": campaign.name,
        "status": str(campaign.status),
        "endedReason": campaign.ended_reason,
        "assistantId": campaign.assistant_id,
        "squadId": campaign.squad_id,
        "workflowId": campaign.workflow_id,
        "phoneNumberId": campaign.phone_number_id,
        "schedulePlan": schedule_plan_to_wire(campaign),
        "maxConcurrency": campaign.max_concurrency,
        "assistantOverrides": campaign.assistant_overrides,
        "squadOverrides": campaign.squad_overrides,
        "server": campaign.server,
        "serverMessages": campaign.server_messages,
        "predialPlan": campaign.predial_plan,
        "contactCounters": (
            counters_to_wire(counters, contacts_total=campaign.contacts_total)["contactCounters"]
            if counters is not None
            else None
        ),
        "callMetrics": call_metrics_to_wire(*call_metrics) if call_metrics else None,
        "createdAt": iso(campaign.created_at),
        "updatedAt": iso(campaign.updated_at),
        **{key: extensions.get(key) for key in SUMMARY_EXTENSIONS},
        "channel": channel_to_wire(campaign.channel),
        "smsCounters": sms_counters,
        "pausedAt": iso(campaign.paused_at),
        "pacing": pacing,
    }
    return {key: value for key, value in body.items() if value is not None}


def skip_reason(contact: ListedContact) -> SkipReason | None:
    if contact.status != ContactStatus.SKIPPED or contact.status_reason is None:
        return None
    return SKIP_REASONS.get(contact.status_reason)


def last_text_to_wire(text: LastText | None) -> dict[str, Any] | None:
    if text is None:
        return None
    body = {
        "status": wire_status(text.status),
        "reason": text.reason,
        "chatId": str(text.chat_id),
        "sessionId": str(text.session_id) if text.session_id else None,
    }
    return {key: value for key, value in body.items() if value is not None}


def contact_to_wire(contact: ListedContact, last_text: LastText | None = None) -> dict[str, Any]:
    """Vapi's ``CampaignContactWithOutcome``: the contact and its last attempt.

    Vapi requires a ``number``; a customer reached by SIP has none, so its ``sipUri`` stands
    in (and is given as ``sipUri`` too): the address the contact is dialed at.
    """
    customer = contact.customer
    body: dict[str, Any] = {
        "id": str(contact.id),
        "number": customer.get("number") or customer.get("sipUri") or "",
        "name": customer.get("name"),
        "status": CONTACT_STATUS_PREFIX + contact.status.value,
        "callId": str(contact.call_id) if contact.call_id else None,
        "dispatchedAt": iso(contact.dispatched_at),
        "endedReason": contact.ended_reason,
        "sipUri": customer.get("sipUri"),
        "skipReason": skip_reason(contact),
        "lastText": last_text_to_wire(last_text),
    }
    return {key: value for key, value in body.items() if value is not None}


def contact_page_to_wire(
    contacts: Sequence[ListedContact],
    *,
    total: int,
    limit: int,
    page: int,
    last_texts: Mapping[uuid.UUID, LastText] | None = None,
) -> dict[str, Any]:
    texts = last_texts or {}
    return {
        "results": [contact_to_wire(contact, texts.get(contact.id)) for contact in contacts],
        "metadata": page_metadata(total=total, limit=limit, page=page),
    }
