"""Our call rows in Vapi's ``Call`` vocabulary and shape."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from orchestrator.models import Call, Campaign
from orchestrator.models.enums import CallStatus
from orchestrator.wire import iso

CALL_TYPE = "outboundPhoneCall"
# What a call runs, under Vapi's names: taken from ``Call.request`` for a direct call, from
# its campaign for a campaign call.
TARGET_FIELDS = (
    "assistantId",
    "assistant",
    "assistantOverrides",
    "squadId",
    "squad",
    "squadOverrides",
    "workflowId",
    "workflow",
    "workflowOverrides",
)


# Every status :func:`vapi_status` answers: Vapi's, but for ``not-found`` and ``deletion-failed``.
WireCallStatus = Literal["scheduled", "queued", "ringing", "in-progress", "forwarding", "ended"]


def vapi_status(
    status: CallStatus | str,
    *,
    not_before: datetime | None = None,
    now: datetime | None = None,
) -> str:
    """Vapi's status of a call in ``status``; a pure function of its arguments.

    Before the provider has the call it is ``queued`` to the user, and a refused or unsent
    create ``ended``. A direct call waiting for capacity (``scheduled`` here) is ``scheduled``
    while its ``schedulePlan.earliestAt`` (``not_before``) is after ``now``, else ``queued``;
    without ``now`` a call with an earliestAt is taken to be still waiting for it.
    """
    if status == CallStatus.SCHEDULED:
        waiting = not_before is not None and (now is None or not_before > now)
        return CallStatus.SCHEDULED.value if waiting else CallStatus.QUEUED.value
    if status in (CallStatus.CLAIMED, CallStatus.DIALING):
        return CallStatus.QUEUED.value
    if status == CallStatus.FAILED:
        return CallStatus.ENDED.value
    return str(status)


def call_progress(call: Call, *, now: datetime | None = None) -> dict[str, Any]:
    """Where a call stands: the fields a campaign's ``calls`` map shows for each of its calls."""
    return {
        "customer": call.customer,
        "status": vapi_status(call.status, not_before=call.not_before, now=now),
        "endedReason": call.ended_reason,
        "startedAt": iso(call.started_at),
        "endedAt": iso(call.ended_at),
    }


def campaign_target(campaign: Campaign) -> dict[str, Any]:
    """What every call of ``campaign`` runs (each customer's own overrides stay on its customer)."""
    return {
        "assistantId": campaign.assistant_id,
        "assistantOverrides": campaign.assistant_overrides,
        "squadId": campaign.squad_id,
        "squadOverrides": campaign.squad_overrides,
        "workflowId": campaign.workflow_id,
    }


def _schedule_plan(call: Call) -> dict[str, Any] | None:
    if call.not_before is None:
        return None
    plan: dict[str, Any] = {"earliestAt": iso(call.not_before)}
    if call.not_after is not None:
        plan["latestAt"] = iso(call.not_after)
    return plan


def _analysis(call: Call) -> dict[str, Any] | None:
    analysis = dict(call.analysis or {})
    if call.summary is not None:
        analysis.setdefault("summary", call.summary)
    return analysis or None


def _extension(call: Call) -> dict[str, Any]:
    """Ours beyond Vapi's fields: the provider's call id, the attempt, the campaign's contact."""
    return {
        "providerCallId": call.provider_call_id,
        "attempt": call.attempt,
        "contactId": str(call.contact_id) if call.contact_id else None,
    }


def call_to_wire(call: Call, *, target: Mapping[str, Any] | None, now: datetime) -> dict[str, Any]:
    """Vapi's ``Call``; ``target`` is what the call runs (see :data:`TARGET_FIELDS`)."""
    chosen = {field: (target or {}).get(field) for field in TARGET_FIELDS}
    body: dict[str, Any] = {
        "id": str(call.id),
        "orgId": str(call.org_id),
        "type": CALL_TYPE,
        **call_progress(call, now=now),
        "endedMessage": call.error_message,
        "createdAt": iso(call.created_at),
        "updatedAt": iso(call.updated_at),
        "cost": call.cost,
        "analysis": _analysis(call),
        "campaignId": str(call.campaign_id) if call.campaign_id else None,
        **chosen,
        "phoneNumberId": call.phone_number_id,
        "name": call.name,
        "schedulePlan": _schedule_plan(call),
        "orchestrator": _extension(call),
    }
    return {key: value for key, value in body.items() if value is not None}
