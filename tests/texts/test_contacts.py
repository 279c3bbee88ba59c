"""A campaign's text settles its contact when it ends: sent completes it, refused fails it,
held back at the send (suppressed, capped) or withdrawn skips it with that reason; counters
follow, and a contact that moved on stays."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.campaigns.counters import counter_drift
from orchestrator.models import Campaign, Contact, ContactStatus, TextPurpose, TextStatus
from orchestrator.orgs.service import CreatedOrg
from orchestrator.reasons import (
    CAMPAIGN_STOPPED,
    FREQUENCY_CAP,
    SUPPRESSED,
    TEXT_DELETED,
    TEXT_SESSION_DELETED,
    TEXT_WITHDRAWN_BY_USER,
    WINDOW_CLOSED,
)
from orchestrator.texts.contacts import settle_text_contacts
from tests.factories import make_campaign
from tests.factories.texts import queued_text


@pytest.mark.parametrize(
    ("status", "reason", "expected"),
    [
        (TextStatus.SENT, None, (ContactStatus.COMPLETED, None)),
        (TextStatus.FAILED, "not SMS enabled", (ContactStatus.FAILED, "not SMS enabled")),
        (TextStatus.FAILED, SUPPRESSED, (ContactStatus.SKIPPED, SUPPRESSED)),
        (TextStatus.FAILED, FREQUENCY_CAP, (ContactStatus.SKIPPED, FREQUENCY_CAP)),
        (TextStatus.FAILED, CAMPAIGN_STOPPED, (ContactStatus.SKIPPED, CAMPAIGN_STOPPED)),
        (TextStatus.FAILED, WINDOW_CLOSED, (ContactStatus.SKIPPED, WINDOW_CLOSED)),
        (TextStatus.FAILED, TEXT_DELETED, (ContactStatus.SKIPPED, TEXT_WITHDRAWN_BY_USER)),
        (TextStatus.FAILED, TEXT_SESSION_DELETED, (ContactStatus.SKIPPED, TEXT_WITHDRAWN_BY_USER)),
    ],
)
def test_a_campaign_text_that_ended_settles_its_contact(
    session: Session,
    org: CreatedOrg,
    status: TextStatus,
    reason: str | None,
    expected: tuple[ContactStatus, str | None],
) -> None:
    campaign_id = make_campaign(session, org=org, customers=1)
    contact = session.scalars(select(Contact).where(Contact.campaign_id == campaign_id)).one()
    chat = queued_text(
        session,
        org=org,
        purpose=TextPurpose.CAMPAIGN,
        campaign_id=campaign_id,
        contact_id=contact.id,
    )
    chat.delivery_status, chat.delivery_reason = status, reason
    assert settle_text_contacts(session, chats=[chat]) == {campaign_id}
    session.refresh(contact)
    assert (contact.status, contact.status_reason) == expected
    assert counter_drift(session, campaign=session.get_one(Campaign, campaign_id)) == {}
    assert settle_text_contacts(session, chats=[chat]) == set()  # it has moved on


def test_texts_outside_campaigns_or_not_ended_settle_nothing(
    session: Session, org: CreatedOrg
) -> None:
    chat = queued_text(session, org=org)
    chat.delivery_status = TextStatus.SENT
    assert settle_text_contacts(session, chats=[chat]) == set()
