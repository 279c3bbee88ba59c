"""Bulk writes of loaded rows: one statement for many rows, and the session told so."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from orchestrator.calls.repository import write_call_states
from orchestrator.contacts.repository import write_contact_outcomes
from orchestrator.models import CallStatus, Contact, ContactStatus
from orchestrator.sql import json_recordset, json_rows
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


def test_json_rows_keep_every_type_and_null_through_the_recordset(session: Session) -> None:
    columns = [("id", "uuid"), ("status", "varchar"), ("at", "timestamptz"), ("cost", "float8"),
               ("tries", "integer"), ("body", "jsonb"), ("note", "text")]  # fmt: skip
    ids = [uuid.uuid4(), uuid.uuid4()]
    awkward = 'quote " backslash \\ comma , brace { newline \n é \u2028'
    rows = [
        (ids[0], CallStatus.ENDED, NOW, 0.25, 7, {"a": [1, None, "x"], "é": {}}, awkward),
        (ids[1], None, None, None, None, None, None),
    ]
    names = [name for name, _ in columns]
    found = session.execute(
        text(f"SELECT * FROM {json_recordset('rows', columns, ordinality=True)} ORDER BY v.n"),
        {"rows": json_rows(names, rows)},
    ).all()
    assert [tuple(row) for row in found] == [
        (*rows[0][:1], "ended", *rows[0][2:], 1),
        (ids[1], None, None, None, None, None, None, 2),
    ]


def test_a_json_null_in_a_jsonb_column_is_sql_null_and_a_json_string_stays_json(
    session: Session,
) -> None:
    columns = [("body", "jsonb")]
    found = session.execute(
        text(f"SELECT body IS NULL, body FROM {json_recordset('rows', columns)}"),
        {"rows": json_rows(["body"], [(None,), ("text",), (orjson.Fragment(b'{"raw": 1}'),)])},
    ).all()
    assert [tuple(row) for row in found] == [(True, None), (False, "text"), (False, {"raw": 1})]


def test_ordinality_numbers_many_rows_in_the_order_given(session: Session) -> None:
    values = [(index,) for index in reversed(range(1_000))]
    found = session.scalars(
        text(
            f"SELECT x FROM {json_recordset('rows', [('x', 'integer')], ordinality=True)} "
            "ORDER BY v.n"
        ),
        {"rows": json_rows(["x"], values)},
    ).all()
    assert found == [value for (value,) in values]
