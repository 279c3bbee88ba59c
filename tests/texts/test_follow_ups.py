"""A call campaign's follow-up text: one per contact, when its last call ends as named."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.campaigns.service import delete_campaign, stop_campaign
from orchestrator.campaigns.states import CampaignEvent
from orchestrator.clock import utcnow
from orchestrator.models import Call, Campaign, Chat, TextPurpose, TextStatus
from orchestrator.orgs.service import CreatedOrg
from orchestrator.texts.follow_ups import follow_up_for, queue_follow_ups
from tests.factories import make_campaign, make_org
from tests.factories.calls import answer_call, dispatch_campaign, end_call

FOLLOW_UP = {
    "sms": {
        "whenEndedReason": ["no-answer", "voicemail"],
        "input": "We tried to call you, {{ customer.name | default: 'there' }}.",
    }
}


def _call(session: Session, org: CreatedOrg, **campaign: object) -> Call:
    campaign_id = make_campaign(session, org=org, customers=1, **campaign)
    (call_id,) = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=1)
    return answer_call(session, call_id=call_id)


def _follow_ups(session: Session, contact_id: uuid.UUID | None) -> list[Chat]:
    stmt = select(Chat).where(Chat.contact_id == contact_id, Chat.purpose == TextPurpose.FOLLOW_UP)
    return list(session.scalars(stmt))


def test_a_final_no_answer_queues_one_follow_up_in_a_new_session(session: Session) -> None:
    org = make_org(session)
    call = _call(session, org, followUpPlan=FOLLOW_UP)
    end_call(session, call_id=call.id, reason="customer-did-not-answer")
    (text,) = _follow_ups(session, call.contact_id)
    assert text.delivery_status == TextStatus.QUEUED
    assert text.input == "We tried to call you, there."
    assert text.phone_number_id == call.phone_number_id
    assert text.session_id is not None
    # The same end reported again changes nothing.
    end_call(session, call_id=call.id, reason="customer-did-not-answer")
    assert len(_follow_ups(session, call.contact_id)) == 1


def test_an_end_the_plan_does_not_name_queues_nothing(session: Session) -> None:
    org = make_org(session)
    call = _call(session, org, followUpPlan=FOLLOW_UP)
    end_call(session, call_id=call.id, reason="customer-ended-call")
    assert _follow_ups(session, call.contact_id) == []


def test_no_follow_up_while_a_retry_follows(session: Session) -> None:
    org = make_org(session)
    retry = {"maxAttempts": 2, "retryOn": ["no-answer"], "delaySeconds": 60}
    call = _call(session, org, followUpPlan=FOLLOW_UP, retryPlan=retry)
    end_call(session, call_id=call.id, reason="customer-did-not-answer")
    assert _follow_ups(session, call.contact_id) == []


def test_queueing_twice_for_one_contact_stores_one_text(session: Session) -> None:
    """Two appliers reaching the same contact (duplicate reports): the second finds the first."""
    org = make_org(session)
    call = _call(session, org, followUpPlan=FOLLOW_UP)
    end_call(session, call_id=call.id, reason="voicemail")
    campaign = session.get(Campaign, call.campaign_id)
    follow_up = follow_up_for(
        campaign,
        contact_id=call.contact_id or uuid.uuid4(),
        customer={"number": "+14155550100"},
        phone_number_id=call.phone_number_id,
        ended_reason="voicemail",
        final=True,
    )
    assert follow_up is not None
    assert queue_follow_ups(session, [follow_up, follow_up], now=utcnow()) == []
    assert len(_follow_ups(session, call.contact_id)) == 1


@pytest.mark.parametrize("event", [CampaignEvent.END_BY_USER, CampaignEvent.CANCEL_BY_USER])
def test_a_campaign_the_user_stopped_queues_no_follow_up_after_the_stop(
    session: Session, event: CampaignEvent
) -> None:
    """Its calls in flight finish, but none of them is followed up once the user stopped it;
    a follow-up queued before the stop and not sent yet is withdrawn with its texts."""
    org = make_org(session)
    campaign_id = make_campaign(session, org=org, customers=2, followUpPlan=FOLLOW_UP)
    first, second = (
        answer_call(session, call_id=call_id)
        for call_id in dispatch_campaign(
            session, campaign_id=campaign_id, now=utcnow(), batch_limit=2
        )
    )
    end_call(session, call_id=first.id, reason="voicemail")
    (queued,) = _follow_ups(session, first.contact_id)
    stop_campaign(session, campaign=session.get_one(Campaign, campaign_id), event=event)
    end_call(session, call_id=second.id, reason="customer-did-not-answer")
    assert _follow_ups(session, second.contact_id) == []
    session.refresh(queued)
    assert queued.delivery_status == TextStatus.FAILED


def test_a_campaign_archived_while_it_ran_queues_no_follow_up(session: Session) -> None:
    org = make_org(session)
    call = _call(session, org, followUpPlan=FOLLOW_UP)
    delete_campaign(session, org_id=org.org_id, campaign_id=str(call.campaign_id))
    end_call(session, call_id=call.id, reason="voicemail")
    assert _follow_ups(session, call.contact_id) == []
