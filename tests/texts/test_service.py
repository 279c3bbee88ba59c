from __future__ import annotations

from sqlalchemy.orm import Session

from orchestrator.models import ChatSession, SessionStatus, TextPurpose, TextStatus
from orchestrator.orgs.service import CreatedOrg
from tests.factories.texts import queued_text


def test_a_text_is_queued_in_a_new_session_of_its_caller_and_customer(
    session: Session, org: CreatedOrg
) -> None:
    chat = queued_text(session, org=org, number="+1 (415) 555-0100", phone_number_id="pn-1")
    opened = session.get(ChatSession, chat.session_id)
    assert opened is not None
    assert (opened.status, opened.phone_number_id) == (SessionStatus.ACTIVE, "pn-1")
    assert opened.customer == {"number": "+1 (415) 555-0100"}
    assert opened.customer_number == chat.customer_number == "+14155550100"
    assert (chat.delivery_status, chat.purpose) == (TextStatus.QUEUED, TextPurpose.API)
    assert chat.due_at is not None and chat.phone_number_id == "pn-1"
    assert chat.transport == {"type": "twilio.sms"}


def test_a_text_in_a_session_goes_to_its_customer_from_its_number(
    session: Session, org: CreatedOrg
) -> None:
    first = queued_text(session, org=org, number="+14155550123", phone_number_id="pn-2")
    opened = session.get(ChatSession, first.session_id)
    assert opened is not None
    second = queued_text(session, org=org, in_session=opened, text="And a second one.")
    assert second.session_id == opened.id
    assert (second.customer_number, second.phone_number_id) == ("+14155550123", "pn-2")
    assert session.query(ChatSession).filter_by(org_id=org.org_id).count() == 1
