"""A campaign stopped by the user: its texts not yet being sent are withdrawn and their
contacts skipped; a text already being sent finishes and settles its own contact."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from orchestrator.campaigns import service
from orchestrator.campaigns.counters import counter_drift
from orchestrator.campaigns.schemas import UpdateCampaignIn
from orchestrator.clock import ManualClock
from orchestrator.models import CampaignStatus, Chat, ContactStatus, TextPurpose, TextStatus
from orchestrator.orgs.service import CreatedOrg
from orchestrator.reasons import CAMPAIGN_STOPPED
from orchestrator.texts import repository as texts_repo
from orchestrator.texts.sending import record_accepted
from orchestrator.texts.states import TextEvent, next_text_status
from tests.factories import campaign_of, contacts_of
from tests.factories.texts import queued_text, sms_campaign_texts


def _begin(chat: Chat) -> None:
    """A sender won this one's compare-and-set: its create is about to leave."""
    chat.delivery_status = next_text_status(TextStatus.QUEUED, TextEvent.SEND)


@pytest.mark.parametrize("status", ["ended", "cancelled"])
def test_a_stopped_sms_campaign_sends_none_of_its_queued_texts(
    session: Session, org: CreatedOrg, clock: ManualClock, status: str
) -> None:
    campaign_id, texts = sms_campaign_texts(session, org=org, customers=3, now=clock.now)
    assert len(texts) == 3
    _begin(texts[0])
    follow_up = queued_text(
        session, org=org, purpose=TextPurpose.FOLLOW_UP, campaign_id=campaign_id
    )
    session.flush()

    service.update_campaign(
        session,
        org_id=org.org_id,
        campaign_id=str(campaign_id),
        body=UpdateCampaignIn.model_validate({"status": status}),
    )

    for text in (*texts[1:], follow_up):
        session.refresh(text)
        assert (text.delivery_status, text.delivery_reason) == (
            TextStatus.FAILED,
            CAMPAIGN_STOPPED,
        )
    later = clock.now + timedelta(hours=1)
    due = texts_repo.claim_due_texts(session, now=later, lease_until=later, limit=100)
    assert due == []
    by_text = {c.id: c for c in contacts_of(session, campaign_id=campaign_id)}
    statuses = sorted(
        (by_text[t.contact_id].status, by_text[t.contact_id].status_reason)
        for t in texts
        if t.contact_id
    )
    assert statuses == [
        (ContactStatus.DISPATCHED, None),
        (ContactStatus.SKIPPED, CAMPAIGN_STOPPED),
        (ContactStatus.SKIPPED, CAMPAIGN_STOPPED),
    ]
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert counter_drift(session, campaign=campaign) == {}

    # The text in flight finishes: its contact completes, the counters still equal a recount.
    assert record_accepted(session, chat=texts[0], answer={"id": "pchat-1"}, now=later)
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert (campaign.contacts_completed, campaign.contacts_skipped) == (1, 2)
    assert counter_drift(session, campaign=campaign) == {}
    assert campaign.status in (CampaignStatus.ENDED, CampaignStatus.CANCELLED)
