"""The queries of a campaign's export: its variables' names, and every contact's row as text.

A row is rendered by Postgres, column by column, as the CSV writes it (text, timestamps in
Vapi's format), so the reader only hands rows to the writer: no JSON is parsed and no object
is built per contact. The contacts are read in dial order through
``ix_contacts_campaign_position``, each joined to its last call and its last text, and the
rows come through a server-side cursor, a chunk at a time, whatever the campaign's size.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    case,
    cast,
    func,
    literal,
    null,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.selectable import LateralFromClause

from orchestrator.campaigns.v2_schemas import CONTACT_STATUS_PREFIX
from orchestrator.campaigns.v2_wire import SKIP_REASONS
from orchestrator.contacts.states import ContactStatus
from orchestrator.models import Call, Chat, Contact, TextStatus

# Vapi's timestamps (``2025-01-01T00:00:00.000Z``), as ``wire.iso`` writes them.
ISO_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'


def _variables() -> ColumnElement[Any]:
    """The contact's ``assistantOverrides.variableValues``, when it is an object."""
    values = Contact.customer["assistantOverrides"]["variableValues"]
    return case((func.jsonb_typeof(values) == "object", values), else_=null())


def variable_names(session: Session, *, campaign_id: uuid.UUID, limit: int) -> list[str]:
    """The distinct names of the campaign's variables, in name order, at most ``limit``."""
    names = func.jsonb_object_keys(_variables()).table_valued("name").alias("names")
    stmt = (
        select(names.c.name)
        .select_from(Contact)
        .join(names, true())
        .where(Contact.campaign_id == campaign_id)
        .distinct()
        .order_by(names.c.name)
        .limit(limit)
    )
    return [str(name) for name in session.scalars(stmt)]


def _iso(column: ColumnElement[Any]) -> ColumnElement[str]:
    return func.to_char(func.timezone("UTC", column), ISO_FORMAT)


def _last_call() -> LateralFromClause:
    """The contact's latest call (its last attempt), as the contacts listing chooses it."""
    return (
        select(
            Call.id,
            Call.ended_reason,
            Call.started_at,
            Call.ended_at,
            Call.cost,
            func.coalesce(Call.summary, Call.analysis["summary"].astext).label("summary"),
        )
        .where(Call.contact_id == Contact.id)
        .order_by(Call.attempt.desc(), Call.created_at.desc())
        .limit(1)
        .lateral("last_call")
    )


def _last_text() -> LateralFromClause:
    """The contact's latest text (campaign text or follow-up), as the listing's ``lastText``."""
    return (
        select(Chat.delivery_status)
        .where(
            Chat.campaign_id == Contact.campaign_id,
            Chat.contact_id == Contact.id,
            Chat.delivery_status.is_not(None),
        )
        .order_by(Chat.created_at.desc(), Chat.id.desc())
        .limit(1)
        .lateral("last_text")
    )


def _skip_reason() -> ColumnElement[str]:
    reasons = [
        (Contact.status_reason == ours, str(theirs)) for ours, theirs in SKIP_REASONS.items()
    ]
    return case((Contact.status != ContactStatus.SKIPPED.value, null()), *reasons, else_=null())


def _text_status(status: ColumnElement[Any]) -> ColumnElement[str]:
    # A text being sent is still ``queued`` to the user (``texts.states.wire_status``).
    being_sent = status.in_([TextStatus.QUEUED.value, TextStatus.SENDING.value])
    return case((being_sent, TextStatus.QUEUED.value), else_=status)


def _variable_columns(columns: Sequence[str], *, overflow: bool) -> list[ColumnElement[Any]]:
    values = _variables()
    named: list[ColumnElement[Any]] = [values.op("->>")(literal(name)) for name in columns]
    if not overflow:
        return named
    rest = values.op("-", return_type=JSONB)(cast(literal(list(columns)), ARRAY(String)))
    named.append(func.nullif(cast(rest, String), "{}"))
    return named


def has_texts(session: Session, *, campaign_id: uuid.UUID) -> bool:
    """Whether any contact of the campaign was texted (else no row looks for a text)."""
    texted = select(Chat.id).where(
        Chat.campaign_id == campaign_id,
        Chat.contact_id.is_not(None),
        Chat.delivery_status.is_not(None),
    )
    return bool(session.scalar(select(texted.exists())))


def _as_text(column: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[str]:
    # Postgres writes numbers and ids as the CSV shows them: the reader converts nothing.
    return cast(column, String)


def export_statement(
    *, campaign_id: uuid.UUID, variables: Sequence[str], overflow: bool, texts: bool
) -> Any:
    """Every contact's row, in dial order: ``export.FIXED_COLUMNS``, then one column per name
    in ``variables`` and, with ``overflow``, the other variables as one JSON object. Every
    column is text. Without ``texts`` the text status is left empty without looking."""
    call = _last_call()
    customer = Contact.customer
    duration = func.extract("epoch", call.c.ended_at - call.c.started_at)
    text = _last_text() if texts else None
    stmt = (
        select(
            func.coalesce(customer["number"].astext, customer["sipUri"].astext),
            customer["name"].astext,
            customer["email"].astext,
            customer["externalId"].astext,
            customer["timezone"].astext,
            literal(CONTACT_STATUS_PREFIX) + Contact.status,
            _skip_reason(),
            _as_text(Contact.attempts),
            _as_text(call.c.id),
            call.c.ended_reason,
            _iso(call.c.started_at),
            _iso(call.c.ended_at),
            _as_text(func.round(duration, 3)),
            _as_text(call.c.cost),
            call.c.summary,
            _text_status(text.c.delivery_status) if text is not None else null(),
            *_variable_columns(variables, overflow=overflow),
        )
        .select_from(Contact)
        .outerjoin(call, true())
        .where(Contact.campaign_id == campaign_id)
        .order_by(Contact.position)
    )
    return stmt.outerjoin(text, true()) if text is not None else stmt


def export_rows(
    session: Session, *, statement: Any, chunk_size: int
) -> Iterator[Sequence[tuple[Any, ...]]]:
    """The statement's rows, ``chunk_size`` at a time, through a server-side cursor of the
    session's connection. The driver's own cursor: every column is text, so its plain tuples
    go to the CSV writer as they are (a third of the time a result's rows would take)."""
    dialect = session.get_bind().dialect
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor(name=f"export_{uuid.uuid4().hex}") as cursor:
        cursor.execute(compiled.string, compiled.params)
        while rows := cursor.fetchmany(chunk_size):
            yield rows
