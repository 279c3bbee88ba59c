"""Turning a claimed call attempt into the provider's ``POST /call`` request, exactly once."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.calls import repository
from orchestrator.calls.service import fail_call, return_call_to_pending
from orchestrator.campaigns import repository as campaigns_repo
from orchestrator.clock import utcnow
from orchestrator.config import Settings
from orchestrator.models import Call, Campaign, CampaignStatus
from orchestrator.providers.vapi import CreateCallRequest
from orchestrator.providers.webhook_server import our_webhook_server
from orchestrator.reasons import (
    CAMPAIGN_STOPPED,
    CAMPAIGN_STOPPED_MESSAGE,
    WINDOW_CLOSED,
    WINDOW_CLOSED_MESSAGE,
)

# Our additions to Vapi's customer: they steer the scheduler and are never sent on.
CUSTOMER_EXTENSION_FIELDS = ("timezone",)


def deep_merge(
    base: Mapping[str, Any] | None, override: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Nested dicts merge key by key; any other value in ``override`` wins."""
    merged: dict[str, Any] = copy.deepcopy(dict(base or {}))
    for key, value in (override or {}).items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def correlation_metadata(call: Call) -> dict[str, Any]:
    """Ids the provider echoes back in every webhook, so an event finds its call row."""
    return {
        "orchestratorCallId": str(call.id),
        "orchestratorCampaignId": str(call.campaign_id) if call.campaign_id else None,
        "orchestratorContactId": str(call.contact_id) if call.contact_id else None,
        "orchestratorOrgId": str(call.org_id),
        "orchestratorAttempt": call.attempt,
    }


def _provider_customer(call: Call) -> dict[str, Any]:
    customer = dict(call.customer)
    for field in CUSTOMER_EXTENSION_FIELDS:
        customer.pop(field, None)
    return customer


def _with_correlation(overrides: dict[str, Any], call: Call, settings: Settings) -> dict[str, Any]:
    """Our ids in ``metadata`` and our webhook in ``server``: every event finds its call."""
    overrides["metadata"] = {**overrides.get("metadata", {}), **correlation_metadata(call)}
    overrides["server"] = our_webhook_server(settings)
    return overrides


def build_create_request(call: Call, campaign: Campaign, settings: Settings) -> CreateCallRequest:
    customer = _provider_customer(call)
    customer_overrides = customer.pop("assistantOverrides", None)
    customer_squad_overrides = customer.pop("squadOverrides", None)
    overrides = _with_correlation(
        deep_merge(campaign.assistant_overrides, customer_overrides), call, settings
    )
    squad_overrides = deep_merge(campaign.squad_overrides, customer_squad_overrides)
    return CreateCallRequest(
        assistant_id=campaign.assistant_id,
        squad_id=campaign.squad_id,
        workflow_id=campaign.workflow_id,
        phone_number_id=call.phone_number_id,
        customer=customer,
        assistant_overrides=overrides,
        squad_overrides=squad_overrides or None,
    )


def build_direct_request(call: Call, settings: Settings) -> CreateCallRequest:
    """A direct call's request as the user made it, plus our correlation and webhook."""
    body = dict(call.request or {})
    body["assistantOverrides"] = _with_correlation(
        deep_merge(body.get("assistantOverrides"), None), call, settings
    )
    body["phoneNumberId"] = call.phone_number_id
    body["customer"] = _provider_customer(call)
    if call.name:
        body["name"] = call.name
    return CreateCallRequest.model_validate(body)


def _direct_call_request(
    session: Session, call: Call, settings: Settings
) -> CreateCallRequest | None:
    if call.not_after is not None and call.not_after <= utcnow():
        fail_call(
            session,
            call,
            reason=WINDOW_CLOSED,
            message=WINDOW_CLOSED_MESSAGE,
            unsent=True,
        )
        return None
    return build_direct_request(call, settings)


def begin_dial(
    session: Session, *, call_id: uuid.UUID, settings: Settings
) -> CreateCallRequest | None:
    """Win the call's compare-and-set and return its request, or None if it must not be sent.

    The caller commits before sending, so a redelivered task finds ``dialing`` and stops.
    """
    if not repository.claim_for_dialing(session, call_id=call_id):
        return None
    call = repository.get_call_for_update(session, call_id=call_id)
    if call is None:
        return None
    return request_for_dialing(session, call, settings)


def begin_dials(
    session: Session, *, call_ids: Sequence[uuid.UUID], settings: Settings
) -> dict[uuid.UUID, CreateCallRequest]:
    """``begin_dial`` for many calls at once: one compare-and-set, one read of the rows won
    (locked in id order), then each call's request; those absent must not be sent."""
    won = repository.claim_many_for_dialing(session, call_ids=call_ids)
    calls = repository.lock_calls_for_dialing(session, call_ids=won)
    # Held while the requests are built: the identity map alone would let each campaign go
    # between calls, and read it again for the next.
    campaigns = [session.get(Campaign, cid) for cid in {c.campaign_id for c in calls} if cid]
    requests: dict[uuid.UUID, CreateCallRequest] = {}
    for call in calls:
        request = request_for_dialing(session, call, settings)
        if request is not None:
            requests[call.id] = request
    del campaigns
    return requests


def request_for_dialing(
    session: Session, call: Call, settings: Settings
) -> CreateCallRequest | None:
    """The request of a call just won for dialing, or None (it is then settled here)."""
    if call.campaign_id is None:
        return _direct_call_request(session, call, settings)
    # A plain read: locking the campaign here while holding the call row could deadlock with a
    # user's cancel, which locks the campaign first. A cancel that commits after this read
    # finds the call ``dialing`` and lets it finish like any call in flight.
    campaign = session.get(Campaign, call.campaign_id)
    if campaign is not None and campaign.status == CampaignStatus.PAUSED:
        return_call_to_pending(session, call)
        return None
    if campaign is None or campaign.status not in campaigns_repo.DIALABLE_STATUSES:
        fail_call(
            session,
            call,
            reason=CAMPAIGN_STOPPED,
            message=CAMPAIGN_STOPPED_MESSAGE,
            unsent=True,
        )
        return None
    return build_create_request(call, campaign, settings)
