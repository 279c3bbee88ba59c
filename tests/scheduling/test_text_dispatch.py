"""An sms campaign's due contacts claimed with one queued text each, paced per number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.campaigns.counters import counter_drift
from orchestrator.models import Chat, Contact, ContactStatus, PhoneNumber, TextPurpose, TextStatus
from orchestrator.orgs.service import CreatedOrg
from orchestrator.reasons import SUPPRESSED
from orchestrator.scheduling.service import dispatch_org
from orchestrator.texts.pending import TEXT_LOOKAHEAD_SECONDS
from tests.factories import campaign_of, contacts_of, make_campaign, make_org
from tests.factories.gate import record_attempt
from tests.factories.suppression import suppress

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
PLAN = {"input": "Hi {{customer.name | default: 'there'}}, reply YES to confirm."}


def _texts(session: Session, org: CreatedOrg) -> list[Chat]:
    stmt = select(Chat).where(Chat.org_id == org.org_id).order_by(Chat.created_at)
    return list(session.scalars(stmt))


def test_each_claimed_contact_gets_one_queued_text_not_bounded_by_concurrency(
    session: Session,
) -> None:
    org = make_org(session, concurrency_limit=1)
    campaign_id = make_campaign(
        session, org=org, customers=3, maxConcurrency=1, channel="sms", smsPlan=PLAN
    )
    result = dispatch_org(session, org_id=org.org_id, now=NOW, batch_limit=500)
    assert result.call_ids == []
    texts = _texts(session, org)
    assert sorted(result.text_ids) == sorted(t.id for t in texts)
    assert len(texts) == 3
    assert {t.purpose for t in texts} == {TextPurpose.CAMPAIGN}
    assert {t.delivery_status for t in texts} == {TextStatus.QUEUED}
    assert {t.phone_number_id for t in texts} == {"phone-1"}
    assert {t.input for t in texts} == {"Hi there, reply YES to confirm."}
    assert texts[0].transport is not None and texts[0].transport["type"] == "twilio.sms"
    statuses = session.scalars(select(Contact.status).where(Contact.campaign_id == campaign_id))
    assert set(statuses) == {ContactStatus.DISPATCHED}
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert (campaign.contacts_pending, campaign.contacts_dispatched) == (0, 3)
    assert counter_drift(session, campaign=campaign) == {}


def test_a_dispatch_queues_a_few_seconds_of_each_numbers_rate_less_those_waiting(
    session: Session,
) -> None:
    org = make_org(session)
    session.add(
        PhoneNumber(org_id=org.org_id, provider_phone_number_id="phone-1", messages_per_second=2)
    )
    session.flush()
    make_campaign(session, org=org, customers=30, channel="sms", smsPlan=PLAN)
    first = dispatch_org(session, org_id=org.org_id, now=NOW, batch_limit=500)
    assert len(first.text_ids) == int(2 * TEXT_LOOKAHEAD_SECONDS)
    # None of them sent yet: nothing more is queued.
    assert dispatch_org(session, org_id=org.org_id, now=NOW, batch_limit=500).text_ids == []
    sent = _texts(session, org)[:4]
    for text in sent:
        text.delivery_status = TextStatus.SENT
    session.flush()
    again = dispatch_org(session, org_id=org.org_id, now=NOW, batch_limit=500)
    assert len(again.text_ids) == 4


def test_a_contact_whose_text_does_not_render_fails(session: Session) -> None:
    """A plan patched in after creation may not render for a contact: it fails at once."""
    org = make_org(session)
    campaign_id = make_campaign(session, org=org, customers=2, channel="sms", smsPlan=PLAN)
    campaign = campaign_of(session, campaign_id=campaign_id)
    campaign.extensions = {**campaign.extensions, "smsPlan": {"input": "{{missing}}"}}
    session.flush()
    result = dispatch_org(session, org_id=org.org_id, now=NOW, batch_limit=500)
    assert result.text_ids == []
    contacts = session.scalars(select(Contact).where(Contact.campaign_id == campaign_id)).all()
    assert {c.status for c in contacts} == {ContactStatus.FAILED}
    assert all(c.status_reason and c.status_reason.startswith("template:") for c in contacts)
    session.expire_all()
    campaign = campaign_of(session, campaign_id=campaign_id)
    assert (campaign.contacts_dispatched, campaign.contacts_failed) == (0, 2)
    assert counter_drift(session, campaign=campaign) == {}


def test_the_gate_at_the_claim_skips_suppressed_and_defers_capped_contacts_without_a_text(
    session: Session,
) -> None:
    org = make_org(
        session,
        policy={"frequencyCaps": [{"maxAttempts": 1, "periodSeconds": 86400, "channels": ["sms"]}]},
    )
    campaign_id = make_campaign(session, org=org, customers=3, channel="sms", smsPlan=PLAN)
    listed, capped, clear = [c.number for c in contacts_of(session, campaign_id=campaign_id)]
    assert listed and capped and clear
    suppress(session, org=org, numbers=[listed])
    # A text an hour ago takes the number's one text a day; a call would not have.
    record_attempt(session, org=org, number=capped, at=NOW - timedelta(hours=1), channel="sms")
    record_attempt(session, org=org, number=clear, at=NOW - timedelta(hours=1), channel="call")

    result = dispatch_org(session, org_id=org.org_id, now=NOW, batch_limit=500)

    (text,) = _texts(session, org)
    assert result.text_ids == [text.id] and text.customer_number == clear
    by_number = {c.number: c for c in contacts_of(session, campaign_id=campaign_id)}
    assert (by_number[listed].status, by_number[listed].status_reason) == (
        ContactStatus.SKIPPED,
        SUPPRESSED,
    )
    assert by_number[capped].status == ContactStatus.PENDING
    assert by_number[capped].deferral is not None
    assert by_number[clear].status == ContactStatus.DISPATCHED
    assert counter_drift(session, campaign=campaign_of(session, campaign_id=campaign_id)) == {}
