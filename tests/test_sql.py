"""Bulk writes of loaded rows: one statement for many rows, and the session told so."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from orchestrator.calls.repository import write_call_states
from orchestrator.contacts.repository import write_contact_outcomes
from orchestrator.models import CallStatus, Contact, ContactStatus
from tests.factories import placed_calls

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _statements(session: Session) -> list[str]:
    seen: list[str] = []

    def record(_: Any, __: Any, statement: str, *___: Any) -> None:
        seen.append(statement.split()[0] + " " + statement.split()[1])

    event.listen(session.connection(), "before_cursor_execute", record)
    return seen


def test_many_calls_are_written_in_one_statement_and_not_again_at_the_flush(
    session: Session,
) -> None:
    _, calls = placed_calls(session, customers=3)
    for index, call in enumerate(calls):
        call.status = CallStatus.ENDED
        call.ended_reason = "voicemail" if index else None
        call.ended_at = NOW
        call.cost = 0.5 * index
        call.analysis = {"summary": "é", "n": index} if index else None
    calls[0].error_message = "not one of the bulk columns"
    statements = _statements(session)

    write_call_states(session, calls, now=NOW)
    session.flush()

    assert statements == ["UPDATE calls", "UPDATE calls"], "one for all, one for the rest"
    rows = session.execute(
        text("SELECT id, status, ended_reason, ended_at, cost, analysis, error_message, "
             "updated_at FROM calls WHERE id = ANY(:ids)"), {"ids": [c.id for c in calls]}
    ).all()  # fmt: skip
    by_id = {row.id: row for row in rows}
    for index, call in enumerate(calls):
        row = by_id[call.id]
        assert (row.status, row.ended_at, row.cost) == ("ended", NOW, 0.5 * index)
        assert row.ended_reason == call.ended_reason and row.analysis == call.analysis
    assert [by_id[c.id].updated_at for c in calls[1:]] == [NOW, NOW]
    assert by_id[calls[0].id].error_message == "not one of the bulk columns"


def test_contacts_are_written_in_one_statement(session: Session) -> None:
    _, calls = placed_calls(session, customers=2)
    contacts = list(
        session.scalars(select(Contact).where(Contact.id.in_([c.contact_id for c in calls])))
    )
    for contact in contacts:
        contact.status = ContactStatus.COMPLETED
        contact.last_ended_reason = "customer-ended-call"
        contact.transient_failures = 2
    statements = _statements(session)

    write_contact_outcomes(session, contacts, now=NOW)
    session.flush()

    assert statements == ["UPDATE contacts"]
    for contact in contacts:
        session.refresh(contact)
        assert (contact.status, contact.last_ended_reason, contact.transient_failures) == (
            ContactStatus.COMPLETED, "customer-ended-call", 2)  # fmt: skip
        assert contact.updated_at == NOW
