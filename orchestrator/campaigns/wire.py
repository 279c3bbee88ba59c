"""Campaigns in Vapi's ``Campaign`` shape and the ``{results, metadata}`` list envelope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orchestrator.calls.wire import call_progress
from orchestrator.campaigns.counters import counters_to_wire
from orchestrator.campaigns.schemas import CampaignListQuery
from orchestrator.listing import page_metadata
from orchestrator.models import Call, Campaign, CampaignCounters
from orchestrator.models.recipient_attempt import CALL_CHANNEL
from orchestrator.wire import iso


def _calls_map(calls: Sequence[Call]) -> dict[str, Any]:
    """Vapi keys a campaign's calls by the provider's call id."""
    return {call.provider_call_id: call_progress(call) for call in calls if call.provider_call_id}


# One contact as the campaign's response lists it: its caller number and the customer as posted.
CustomerEntry = tuple[str | None, dict[str, Any]]


def _audience(campaign: Campaign, customers: Sequence[CustomerEntry]) -> dict[str, Any]:
    """The customers in dial order, grouped again by caller number if a dial plan was posted."""
    if not campaign.uses_dial_plan:
        return {"customers": [customer for _, customer in customers]}
    plan: list[dict[str, Any]] = []
    for phone_number_id, customer in customers:
        if not plan or plan[-1]["phoneNumberId"] != phone_number_id:
            plan.append({"phoneNumberId": phone_number_id, "customers": []})
        plan[-1]["customers"].append(customer)
    return {"dialPlan": plan}


def schedule_plan_to_wire(campaign: Campaign) -> dict[str, Any] | None:
    if campaign.earliest_at is None:
        return None
    plan: dict[str, Any] = {"earliestAt": iso(campaign.earliest_at)}
    if campaign.latest_at is not None:
        plan["latestAt"] = iso(campaign.latest_at)
    return plan


def channel_to_wire(channel: str) -> str | None:
    """Shown for a campaign that texts: Vapi's campaigns all call, and their answers stay so."""
    return None if channel == CALL_CHANNEL else channel


def campaign_to_wire(
    campaign: Campaign,
    *,
    counters: CampaignCounters,
    calls: Sequence[Call],
    customers: Sequence[CustomerEntry],
    pacing: dict[str, Any] | None = None,
    sms_counters: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Vapi's fields, then our extensions (``callingHours``, ``retryPlan``, ``pacing``...)."""
    body: dict[str, Any] = {
        "id": str(campaign.id),
        "orgId": str(campaign.org_id),
        "name": campaign.name,
        "status": str(campaign.status),
        "endedReason": campaign.ended_reason,
        "assistantId": campaign.assistant_id,
        "workflowId": campaign.workflow_id,
        "squadId": campaign.squad_id,
        "phoneNumberId": campaign.phone_number_id,
        **_audience(campaign, customers),
        "schedulePlan": schedule_plan_to_wire(campaign),
        "maxConcurrency": campaign.max_concurrency,
        "assistantOverrides": campaign.assistant_overrides,
        "squadOverrides": campaign.squad_overrides,
        "server": campaign.server,
        "serverMessages": campaign.server_messages,
        "predialPlan": campaign.predial_plan,
        "createdAt": iso(campaign.created_at),
        "updatedAt": iso(campaign.updated_at),
        "calls": _calls_map(calls),
        **counters_to_wire(counters, contacts_total=campaign.contacts_total),
        **(campaign.extensions or {}),
        "channel": channel_to_wire(campaign.channel),
        "smsCounters": sms_counters,
        "pausedAt": iso(campaign.paused_at),
        "pacing": pacing,
    }
    return {key: value for key, value in body.items() if value is not None}


def list_envelope(
    results: list[dict[str, Any]], *, total: int, query: CampaignListQuery
) -> dict[str, Any]:
    metadata = page_metadata(
        total=total, limit=query.limit, page=query.page, sort_order=str(query.sort_order)
    )
    return {"results": results, "metadata": metadata}
