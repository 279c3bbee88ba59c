"""A contact's history in the extension's shape: the contact as the v2 listing shows it, its
attempts as calls, its decisions with our reasons as the wire tells them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orchestrator.calls.wire import vapi_status
from orchestrator.campaigns.text_repository import LastText
from orchestrator.campaigns.v2_wire import SKIP_REASONS, contact_to_wire
from orchestrator.contacts.listing_repository import ListedContact
from orchestrator.models import Call, ContactDecision, DecisionKind
from orchestrator.wire import iso

# Decisions whose reason is a contact's ``status_reason``, told as its ``skipReason``.
_ENDING_KINDS = (DecisionKind.SKIPPED, DecisionKind.CLOSED)


def _present(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


def attempt_to_wire(call: Call) -> dict[str, Any]:
    return _present(
        {
            "id": str(call.id),
            "attempt": call.attempt,
            "status": vapi_status(call.status),
            "endedReason": call.ended_reason,
            "phoneNumberId": call.phone_number_id,
            "providerCallId": call.provider_call_id,
            "createdAt": iso(call.created_at),
            "dialedAt": iso(call.dialed_at),
            "startedAt": iso(call.started_at),
            "endedAt": iso(call.ended_at),
        }
    )


def decision_to_wire(decision: ContactDecision) -> dict[str, Any]:
    reason = decision.reason
    if reason is not None and decision.kind in _ENDING_KINDS:
        reason = SKIP_REASONS.get(reason, reason)
    return _present(
        {
            "at": iso(decision.at),
            "kind": str(decision.kind),
            "reason": reason,
            "retryAt": iso(decision.retry_at),
            "callId": str(decision.call_id) if decision.call_id else None,
            "detail": decision.detail,
        }
    )


def history_to_wire(
    contact: ListedContact,
    attempts: Sequence[Call],
    decisions: Sequence[ContactDecision],
    *,
    truncated: int,
    last_text: LastText | None = None,
) -> dict[str, Any]:
    return {
        "contact": contact_to_wire(contact, last_text),
        "attempts": [attempt_to_wire(call) for call in attempts],
        "decisions": [decision_to_wire(decision) for decision in decisions],
        "decisionsTruncated": truncated,
    }
