"""A campaign ends exactly once its last call ends, also when its last calls end at once.

Two transactions ending a campaign's last two calls each move their own shard row; each sees
the other's delta uncommitted, so neither sees the campaign done. The scheduler tick's sweep
sees both committed and ends it.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from orchestrator.calls import repository as calls_repo
from orchestrator.calls.service import CallEnding, move_call
from orchestrator.campaigns.counter_repository import bump_counters, counters_of
from orchestrator.campaigns.counters import counter_drift
from orchestrator.campaigns.repository import (
    _still_done,
    call_metrics,
    finish_done_campaigns,
    finish_if_done,
)
from orchestrator.clock import utcnow
from orchestrator.flows.tick import run_tick
from orchestrator.models import Call, CallStatus, Campaign, CampaignStatus
from orchestrator.orgs.service import CreatedOrg
from tests.factories import dispatch_campaign, end_call, make_campaign, placed_calls
from tests.support.concurrency import (
    campaign_now,
    connections_on_distinct_shards,
    counters_now,
    set_lock_timeout,
)


def _campaign_with_calls_in_progress(
    engine: Engine, org: CreatedOrg, calls: int
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    with Session(engine) as session:
        campaign_id = make_campaign(session, org=org, customers=calls)
        call_ids = dispatch_campaign(
            session, campaign_id=campaign_id, now=utcnow(), batch_limit=500
        )
        for call_id in call_ids:
            call = calls_repo.get_call_for_update(session, call_id=call_id)
            assert call is not None
            move_call(session, call, CallStatus.IN_PROGRESS)
        session.commit()
    assert len(call_ids) == calls
    return campaign_id, call_ids


def _end_call(session: Session, call_id: uuid.UUID) -> None:
    call = calls_repo.get_call_for_update(session, call_id=call_id)
    assert call is not None
    move_call(
        session, call, CallStatus.ENDED, ending=CallEnding(ended_reason="customer-ended-call")
    )
    session.flush()


def _status_seen_by(session: Session, campaign_id: uuid.UUID) -> CampaignStatus:
    campaign = session.get(Campaign, campaign_id, populate_existing=True)
    assert campaign is not None
    return campaign.status


@pytest.mark.parametrize("first_to_commit", [0, 1])
def test_last_two_calls_ending_at_once_still_end_the_campaign(
    real_engine: Engine, committed_org: CreatedOrg, first_to_commit: int
) -> None:
    campaign_id, call_ids = _campaign_with_calls_in_progress(real_engine, committed_org, 2)
    with connections_on_distinct_shards(real_engine, 2) as connections:
        sessions = [Session(bind=connection) for connection in connections]
        for session, call_id in zip(sessions, call_ids, strict=True):
            set_lock_timeout(session.connection(), 5000)  # neither waits for the other
            _end_call(session, call_id)
        for session in sessions:
            # Each sees its own call ended and the other still in flight: not done.
            assert _status_seen_by(session, campaign_id) == CampaignStatus.IN_PROGRESS
            seen = counters_of(session, campaign_ids=[campaign_id])[campaign_id]
            assert seen.contacts_dispatched == 1
        sessions[first_to_commit].commit()
        sessions[1 - first_to_commit].commit()
        for session in sessions:
            session.close()

    # The race happened: the campaign is done but nobody ended it.
    counters = counters_now(real_engine, campaign_id)
    assert (counters.contacts_pending, counters.contacts_dispatched) == (0, 0)
    assert counters.contacts_completed == 2
    assert campaign_now(real_engine, campaign_id).status == CampaignStatus.IN_PROGRESS

    run_tick(enqueue=lambda call_ids: None)

    campaign = campaign_now(real_engine, campaign_id)
    assert campaign.status == CampaignStatus.ENDED
    assert campaign.ended_reason == "campaign.ended.success"
    with Session(real_engine) as session:
        stored = session.get(Campaign, campaign_id)
        assert stored is not None
        assert counter_drift(session, campaign=stored) == {}


def test_the_last_call_ending_after_the_other_committed_ends_the_campaign_itself(
    real_engine: Engine, committed_org: CreatedOrg
) -> None:
    campaign_id, (first, second) = _campaign_with_calls_in_progress(real_engine, committed_org, 2)
    for call_id in (first, second):
        with Session(real_engine) as session:
            _end_call(session, call_id)
            session.commit()
    campaign = campaign_now(real_engine, campaign_id)
    assert campaign.status == CampaignStatus.ENDED
    assert campaign.ended_reason == "campaign.ended.success"


def test_ending_never_waits_for_a_campaign_row_someone_holds(
    real_engine: Engine, committed_org: CreatedOrg
) -> None:
    """A webhook ending the last call does not queue behind the scheduler's row lock."""
    campaign_id, (call_id,) = _campaign_with_calls_in_progress(real_engine, committed_org, 1)
    with real_engine.connect() as holder, Session(real_engine) as webhook:
        holder.execute(
            text("SELECT id FROM campaigns WHERE id = :id FOR UPDATE"), {"id": campaign_id}
        )
        set_lock_timeout(webhook.connection(), 200)
        _end_call(webhook, call_id)  # its finish_if_done skips the held row: no lock timeout
        assert finish_if_done(webhook, campaign_id=campaign_id) is False
        webhook.commit()
        holder.rollback()
    assert campaign_now(real_engine, campaign_id).status == CampaignStatus.IN_PROGRESS
    with Session(real_engine) as session:
        assert campaign_id in finish_done_campaigns(session)
        session.commit()
    assert campaign_now(real_engine, campaign_id).status == CampaignStatus.ENDED


def test_the_sweep_ends_only_campaigns_with_nothing_pending_or_in_flight(
    session: Session, org: CreatedOrg
) -> None:
    done = make_campaign(session, org=org, customers=2)
    waiting = make_campaign(session, org=org, customers=2)
    bump_counters(session, campaign_id=done, deltas={"contacts_pending": -2, "contacts_skipped": 2})
    bump_counters(
        session, campaign_id=waiting, deltas={"contacts_pending": -1, "contacts_dispatched": 1}
    )
    assert finish_done_campaigns(session) == [done]
    assert _status_seen_by(session, done) == CampaignStatus.ENDED
    assert _status_seen_by(session, waiting) == CampaignStatus.SCHEDULED
    assert finish_done_campaigns(session) == []


def test_a_campaign_locked_as_done_is_read_again_before_it_ends(
    session: Session, org: CreatedOrg
) -> None:
    """The sweep's lock may come after an append committed unseen by its first read: the
    second read is what decides."""
    done = make_campaign(session, org=org, customers=1)
    appended = make_campaign(session, org=org, customers=1)
    for campaign_id in (done, appended):
        bump_counters(
            session, campaign_id=campaign_id, deltas={"contacts_pending": -1, "contacts_skipped": 1}
        )
    # As an append would leave it once committed: a contact pending again.
    bump_counters(session, campaign_id=appended, deltas={"contacts_pending": 1})
    assert _still_done(session, [done, appended]) == [done]
    assert _still_done(session, []) == []


def test_call_metrics_count_contacts_not_attempts(session: Session) -> None:
    """Vapi's callMetrics: contacts a call was placed for, and those a person picked up."""
    campaign_id, (first, other) = placed_calls(session, customers=2)
    end_call(session, call_id=first.id, reason="customer-did-not-answer")
    end_call(session, call_id=other.id, reason="voicemail")
    # The first contact's second attempt (a retry plan's), which a person answered.
    retry = Call(
        org_id=first.org_id,
        campaign_id=campaign_id,
        contact_id=first.contact_id,
        attempt=2,
        status=CallStatus.ENDED,
        phone_number_id=first.phone_number_id,
        customer=first.customer,
        provider_call_id=f"retry-{first.id}",
        ended_reason="customer-ended-call",
    )
    session.add(retry)
    session.flush()
    assert call_metrics(session, campaign_ids=[campaign_id]) == {campaign_id: (2, 1)}
