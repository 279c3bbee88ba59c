"""Applying provider messages: forward-only, duplicates change nothing, counters stay exact."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.calls.service import record_provider_call
from orchestrator.campaigns.counters import counter_drift
from orchestrator.clock import utcnow
from orchestrator.metrics.service import counted
from orchestrator.models import (
    CallStatus,
    CampaignStatus,
    Contact,
    ContactStatus,
    WebhookEvent,
)
from orchestrator.webhooks.applying import apply_parked_events, ingest_message
from tests.factories import (
    campaign_of,
    dispatch_campaign,
    make_campaign,
    make_org,
    placed_calls,
    report,
    status_update,
)


def test_full_sequence_completes_contact_and_ends_campaign(session: Session) -> None:
    campaign_id, (call,) = placed_calls(session)
    for payload in (
        status_update(call, "ringing"),
        status_update(call, "in-progress", call_fields={"startedAt": "2026-03-01T12:00:01.000Z"}),
        status_update(call, "ended", endedReason="customer-ended-call"),
        report(call, "customer-ended-call"),
    ):
        ingest_message(session, payload=payload)
    session.refresh(call)
    assert call.status == CallStatus.ENDED
    assert call.ended_reason == "customer-ended-call"
    assert call.cost == 0.12
    assert call.summary == "Booked for Tuesday."
    assert call.started_at is not None and call.ended_at is not None
    contact = session.get(Contact, call.contact_id)
    assert contact is not None and contact.status == ContactStatus.COMPLETED
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert campaign.status == CampaignStatus.ENDED
    assert campaign.ended_reason == "campaign.ended.success"
    assert campaign.calls_counter_ended == 1
    assert counter_drift(session, campaign=campaign) == {}


def test_late_ringing_after_ended_changes_nothing(session: Session) -> None:
    campaign_id, (call, _) = placed_calls(session, customers=2)
    ingest_message(session, payload=status_update(call, "ended", endedReason="customer-busy"))
    result = ingest_message(session, payload=status_update(call, "ringing"))
    assert result.outcome == "no-change"
    session.refresh(call)
    assert call.status == CallStatus.ENDED
    contact = session.get(Contact, call.contact_id)
    assert contact is not None and contact.status == ContactStatus.FAILED
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert (campaign.calls_counter_in_progress, campaign.calls_counter_ended) == (0, 1)
    assert counter_drift(session, campaign=campaign) == {}


def test_only_the_message_that_ends_a_call_frees_its_orgs_capacity(session: Session) -> None:
    _, (call,) = placed_calls(session)
    ringing = ingest_message(session, payload=status_update(call, "ringing"))
    assert ringing.freed_org_id is None
    ended = ingest_message(session, payload=status_update(call, "ended", endedReason="voicemail"))
    assert ended.freed_org_id == call.org_id
    again = ingest_message(session, payload=report(call, "voicemail"))
    assert again.freed_org_id is None


def test_a_message_delivered_again_is_stored_once_and_changes_nothing(
    session: Session,
) -> None:
    campaign_id, (call, _) = placed_calls(session, customers=2)
    payload = status_update(call, "ended", endedReason="voicemail")
    outcomes = [ingest_message(session, payload=payload).outcome for _ in range(3)]
    assert outcomes == ["applied", "duplicate", "duplicate"]
    stored = session.scalar(
        select(func.count()).select_from(WebhookEvent).where(WebhookEvent.call_id == call.id)
    )
    assert stored == 1
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert (campaign.calls_counter_ended, campaign.calls_counter_ended_voicemail) == (1, 1)
    assert campaign.contacts_completed == 1
    assert counter_drift(session, campaign=campaign) == {}


def test_report_before_ended_status_ends_the_call(session: Session) -> None:
    campaign_id, (call, _) = placed_calls(session, customers=2)
    ingest_message(session, payload=report(call, "customer-did-not-answer"))
    ingest_message(
        session, payload=status_update(call, "ended", endedReason="customer-did-not-answer")
    )
    session.refresh(call)
    assert call.status == CallStatus.ENDED
    assert call.ended_reason == "customer-did-not-answer"
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert campaign.contacts_failed == 1
    assert counter_drift(session, campaign=campaign) == {}


def test_webhook_that_beats_the_create_response_is_correlated_by_metadata(
    session: Session,
) -> None:
    org = make_org(session)
    campaign_id = make_campaign(session, org=org, customers=1)
    (call_id,) = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=5)
    provider_id = str(uuid.uuid4())
    metadata = {"orchestratorCallId": str(call_id)}
    payload = {
        "message": {
            "type": "status-update",
            "status": "ringing",
            "call": {"id": provider_id, "assistantOverrides": {"metadata": metadata}},
        }
    }
    correlated_before = counted("orchestrator_calls_correlated")
    assert ingest_message(session, payload=payload).outcome == "applied"
    assert counted("orchestrator_calls_correlated") == correlated_before + 1
    call = record_provider_call(session, call_id=call_id, provider_call={"id": provider_id})
    assert call is not None
    assert call.provider_call_id == provider_id
    assert call.status == CallStatus.RINGING, "the create response must not move it back"
    # Known by its provider id from now on: later messages are not counted as correlations.
    payload["message"]["status"] = "in-progress"
    assert ingest_message(session, payload=payload).outcome == "applied"
    assert counted("orchestrator_calls_correlated") == correlated_before + 1
    assert counter_drift(session, campaign=campaign_of(session, campaign_id=campaign_id)) == {}


def test_unknown_call_and_unknown_message_types_are_stored_not_applied(session: Session) -> None:
    unknown = ingest_message(
        session,
        payload={"message": {"type": "status-update", "status": "ringing", "call": {"id": "nope"}}},
    )
    assert unknown.outcome == "parked"
    assert unknown.event_id is not None
    nameless = ingest_message(
        session, payload={"message": {"type": "status-update", "status": "ringing"}}
    )
    assert nameless.outcome == "unknown-call"
    other = ingest_message(session, payload={"message": {"type": "transcript", "transcript": "hi"}})
    assert other.outcome == "ignored"
    stored = session.get(WebhookEvent, other.event_id)
    assert stored is not None
    assert stored.outcome == "ignored"


def test_a_message_for_a_call_not_recorded_yet_waits_and_is_applied_once_it_is(
    session: Session,
) -> None:
    org = make_org(session)
    campaign_id = make_campaign(session, org=org, customers=1)
    (call_id,) = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=5)
    provider_id = str(uuid.uuid4())
    ended = {
        "message": {
            "type": "status-update",
            "status": "ended",
            "endedReason": "customer-busy",
            "call": {"id": provider_id, "endedAt": "2026-03-01T12:00:09.000Z"},
        }
    }
    assert ingest_message(session, payload=ended).outcome == "parked"
    call = record_provider_call(session, call_id=call_id, provider_call={"id": provider_id})
    assert call is not None
    queued = call.status
    assert apply_parked_events(session, call=call) is True
    assert (queued, call.status) == (CallStatus.QUEUED, CallStatus.ENDED)
    assert call.ended_reason == "customer-busy"
    assert apply_parked_events(session, call=call) is False, "applied once"
    event = session.scalars(select(WebhookEvent).where(WebhookEvent.call_id == call_id)).one()
    assert event.outcome == "applied"
    assert counter_drift(session, campaign=campaign_of(session, campaign_id=campaign_id)) == {}


def test_times_are_the_earliest_start_and_latest_end_reported(session: Session) -> None:
    _, (call,) = placed_calls(session)
    ingest_message(session, payload=report(call, "customer-ended-call"))
    started, ended = call.started_at, call.ended_at
    in_progress = status_update(
        call, "in-progress", call_fields={"startedAt": "2026-03-01T12:00:03.000Z"}
    )
    assert ingest_message(session, payload=in_progress).outcome == "no-change"
    session.refresh(call)
    assert (call.started_at, call.ended_at) == (started, ended)
    earlier = status_update(
        call, "in-progress", call_fields={"startedAt": "2026-03-01T11:59:59.000Z"}
    )
    ingest_message(session, payload=earlier)
    session.refresh(call)
    assert call.started_at == datetime(2026, 3, 1, 11, 59, 59, tzinfo=UTC)
