"""Queries of the decision history: set-based writes, and one contact's history read back.

Every write is one statement however many contacts it covers. A decision's campaign and org
are read from its contact in that statement, so the deciding code names only the contact.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    CTE,
    CompoundSelect,
    DateTime,
    Insert,
    Select,
    String,
    Text,
    Uuid,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Session

from orchestrator.decisions.decision import Decision, DecisionKind, Deferral
from orchestrator.models import Call, Contact, ContactDecision, ContactStatus
from orchestrator.sql import array_param, json_recordset, json_rows

WRITTEN_COLUMNS = (
    "org_id",
    "campaign_id",
    "contact_id",
    "at",
    "kind",
    "reason",
    "retry_at",
    "call_id",
    "detail",
)

_DECISION_COLUMNS = (
    ("contact_id", "uuid"),
    ("at", "timestamptz"),
    ("kind", "varchar"),
    ("reason", "varchar"),
    ("retry_at", "timestamptz"),
    ("call_id", "uuid"),
    ("detail", "jsonb"),
)
# ``WITH ORDINALITY`` and ``ORDER BY``: ids are drawn in the order the decisions were given.
_INSERT_DECISIONS = text(
    f"INSERT INTO contact_decisions ({', '.join(WRITTEN_COLUMNS)}) "
    "SELECT c.org_id, c.campaign_id, v.contact_id, v.at, v.kind, v.reason, v.retry_at, "
    "v.call_id, v.detail "
    f"FROM {json_recordset('decisions', _DECISION_COLUMNS, ordinality=True)} "
    "JOIN contacts c ON c.id = v.contact_id "
    "ORDER BY v.n"
)


def _json(value: object) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def insert_decisions(session: Session, decisions: Sequence[Decision], *, now: datetime) -> int:
    """``decisions`` in one statement, in their order; how many were written (a decision
    about a contact that is gone is dropped)."""
    if not decisions:
        return 0
    rows = (
        (d.contact_id, d.at or now, d.kind, d.reason, d.retry_at, d.call_id, d.detail)
        for d in decisions
    )
    names = [name for name, _ in _DECISION_COLUMNS]
    result = session.execute(_INSERT_DECISIONS, {"decisions": json_rows(names, rows)})
    return int(result.rowcount)  # type: ignore[attr-defined]


def deferrals_source(deferrals: Sequence[Deferral]) -> Select[Any]:
    """``deferrals`` as rows ``(id, reason, retry_at, detail)`` for :func:`defer`."""
    rows = (
        func.unnest(
            array_param("ids", [d.contact_id for d in deferrals], Uuid),
            array_param("reasons", [d.reason for d in deferrals], String),
            bindparam(
                "retry_ats",
                [d.retry_at for d in deferrals],
                type_=ARRAY(DateTime(timezone=True)),
            ),
            array_param("details", [_json(d.detail) for d in deferrals], Text),
        )
        .table_valued("id", "reason", "retry_at", "detail", name="v")
        .render_derived()
    )
    return select(
        rows.c.id,
        rows.c.reason,
        rows.c.retry_at,
        cast(rows.c.detail, JSONB).label("detail"),
    )


def defer(
    session: Session, wanted: Select[Any] | CompoundSelect[Any], *, now: datetime
) -> set[uuid.UUID]:
    """Set each wanted contact's ``deferral`` to its reason and record a ``deferred`` decision,
    only for pending contacts whose reason changes; one statement. ``wanted`` selects ``(id,
    reason, retry_at, detail)``, one row per contact. The contacts recorded.

    A contact another transaction holds (a verdict being applied, a call ending) is passed
    over rather than waited for, neither recorded nor marked: it is being decided about, and
    a wait that lasts is recorded at the next tick. One that ended meanwhile is found ended
    once its lock is taken, and gets no ``deferred`` row after its last decision.
    """
    source = wanted.cte("wanted")
    free = (
        select(Contact.id, source.c.reason, source.c.retry_at, source.c.detail)
        .join(source, Contact.id == source.c.id)
        .where(
            Contact.status == ContactStatus.PENDING,
            Contact.deferral.is_distinct_from(source.c.reason),
        )
        .with_for_update(of=Contact, skip_locked=True)
        .cte("free")
    )
    changed = (
        update(Contact)
        .where(Contact.id == free.c.id)
        .values(deferral=free.c.reason)
        .returning(
            Contact.id,
            Contact.org_id,
            Contact.campaign_id,
            free.c.reason,
            free.c.retry_at,
            free.c.detail,
        )
        .cte("changed")
    )
    rows = select(
        changed.c.org_id,
        changed.c.campaign_id,
        changed.c.id,
        literal(now, DateTime(timezone=True)),
        literal(DecisionKind.DEFERRED.value, String),
        changed.c.reason,
        changed.c.retry_at,
        literal(None, Uuid),
        changed.c.detail,
    )
    stmt = insert(ContactDecision).from_select(WRITTEN_COLUMNS, rows)
    return set(session.scalars(stmt.returning(ContactDecision.contact_id)))


def closing_decisions(closed: CTE, *, reason: str, now: datetime) -> Insert:
    """The decisions of contacts closed by ``closed`` (an UPDATE returning ``id``, ``org_id``,
    ``campaign_id`` and the new ``status``): ``skipped`` for those never dialed, ``closed``
    for those waiting for a retry; to run in the same statement as the closing."""
    kind = case(
        (closed.c.status == ContactStatus.SKIPPED.value, DecisionKind.SKIPPED.value),
        else_=DecisionKind.CLOSED.value,
    )
    rows = select(
        closed.c.org_id,
        closed.c.campaign_id,
        closed.c.id,
        literal(now, DateTime(timezone=True)),
        kind,
        literal(reason, String),
        literal(None, DateTime(timezone=True)),
        literal(None, Uuid),
        literal(None, JSONB),
    )
    return insert(ContactDecision).from_select(WRITTEN_COLUMNS, rows)


def decisions_of(
    session: Session, *, contact_id: uuid.UUID, limit: int
) -> tuple[list[ContactDecision], int]:
    """The contact's last ``limit`` decisions, oldest first, and how many older ones there are."""
    newest = session.scalars(
        select(ContactDecision)
        .where(ContactDecision.contact_id == contact_id)
        .order_by(ContactDecision.id.desc())
        .limit(limit)
    ).all()
    older = 0
    if len(newest) == limit:
        count = select(func.count()).where(
            ContactDecision.contact_id == contact_id, ContactDecision.id < newest[-1].id
        )
        older = int(session.scalar(count) or 0)
    return list(reversed(newest)), older


def attempts_of(session: Session, *, contact_id: uuid.UUID) -> list[Call]:
    """The contact's calls, first attempt first."""
    stmt = (
        select(Call)
        .where(Call.contact_id == contact_id)
        .order_by(Call.attempt, Call.created_at, Call.id)
    )
    return list(session.scalars(stmt))
