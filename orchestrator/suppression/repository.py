"""Queries of the suppression list."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, any_, delete, func, or_, select, text
from sqlalchemy.orm import Session

from orchestrator.models import Call, Campaign, Org, Suppression
from orchestrator.sql import array_param
from orchestrator.suppression.schemas import SuppressionReason


def _live(now: datetime) -> Any:
    return or_(Suppression.expires_at.is_(None), Suppression.expires_at > now)


def suppressed_numbers(
    session: Session, *, org_id: uuid.UUID, numbers: Collection[str], now: datetime
) -> set[str]:
    """Those of ``numbers`` on the org's list at ``now`` (an expired entry no longer counts)."""
    if not numbers:
        return set()
    # One array, not a parameter per number: the driver converts a short query once.
    stmt = select(Suppression.number).where(
        Suppression.org_id == org_id,
        Suppression.number == any_(array_param("numbers", list(numbers), String)),
        _live(now),
    )
    return set(session.scalars(stmt))


def live_reasons(
    session: Session, *, org_id: uuid.UUID, numbers: Sequence[str], now: datetime
) -> dict[str, str]:
    """Each of ``numbers`` on the org's list at ``now``, with the reason it is there."""
    if not numbers:
        return {}
    stmt = select(Suppression.number, Suppression.reason).where(
        Suppression.org_id == org_id,
        Suppression.number == any_(array_param("numbers", numbers, String)),
        _live(now),
    )
    return {row.number: row.reason for row in session.execute(stmt)}


@dataclass(frozen=True)
class NewEntries:
    """What every number added together shares."""

    org_id: uuid.UUID
    reason: str
    source: str | None
    expires_at: datetime | None
    now: datetime

    def params(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "reason": self.reason,
            "source": self.source,
            "expires_at": self.expires_at,
            "now": self.now,
        }


# An opt-out is the strongest reason: the customer asked us, not a list about them. Added
# over a live entry of another reason, it takes the entry over (reason and source).
STRONGEST_REASON = str(SuppressionReason.OPT_OUT)

_UUID = "'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'"


def from_text_sql(entry: str) -> str:
    """True when ``entry`` is an opt-out heard in a text: its source a session of its org.
    The CASE keeps a source that is no UUID (a call's entries have one too, but no session
    has a call's id) from ever being cast."""
    return f"""({entry}.reason = '{STRONGEST_REASON}' AND EXISTS (
        SELECT FROM sessions
        WHERE sessions.org_id = {entry}.org_id AND sessions.id = CASE
            WHEN {entry}.source ~* {_UUID} THEN CAST({entry}.source AS uuid) END
    ))"""


_EXPIRED = "suppressions.expires_at <= EXCLUDED.created_at"
_TAKES_OVER = (
    f"EXCLUDED.reason = '{STRONGEST_REASON}' AND suppressions.reason <> '{STRONGEST_REASON}'"
)


# What adding a number already listed does. An expired entry is replaced (it counts as
# added). A live one counts as already present, but never ends weaker than asked: it keeps
# the later expiry (none wins), and it is taken over (reason and source) by an opt-out, and
# when it is an opt-out heard in a text, by any other writer (a list, a complaint, a call):
# a START takes off only what a text put there, so it must not take off what they add.
# ``takes_over`` is false for an opt-out heard in a text: it takes nothing over (a START could
# take it off again, and with it the entry it took over).
# Rows nothing changes are not written, so importing a list again rewrites nothing.
# ``added``: an inserted row (xmax 0), or one whose entry had expired; the subquery reads the
# statement's snapshot, which still holds the entry as it was.
def on_conflict(*, takes_over: bool = True) -> str:
    over = f"({_TAKES_OVER} OR {from_text_sql('suppressions')})" if takes_over else "FALSE"
    return f"""
    ON CONFLICT (org_id, number) DO UPDATE
    SET reason = CASE WHEN {_EXPIRED} OR {over}
            THEN EXCLUDED.reason ELSE suppressions.reason END,
        source = CASE WHEN {_EXPIRED} OR {over}
            THEN EXCLUDED.source ELSE suppressions.source END,
        created_at = CASE WHEN {_EXPIRED}
            THEN EXCLUDED.created_at ELSE suppressions.created_at END,
        expires_at = CASE WHEN EXCLUDED.expires_at IS NULL OR suppressions.expires_at IS NULL
            THEN NULL ELSE GREATEST(suppressions.expires_at, EXCLUDED.expires_at) END
    WHERE {_EXPIRED} OR {over}
        OR suppressions.expires_at < COALESCE(EXCLUDED.expires_at, 'infinity')
    RETURNING CASE WHEN suppressions.xmax = 0 THEN TRUE ELSE EXISTS (
        SELECT FROM suppressions AS was
        WHERE was.org_id = suppressions.org_id AND was.number = suppressions.number
            AND was.expires_at <= :now
    ) END AS added
"""


ON_CONFLICT = on_conflict()


def add_statement(numbers_sql: str) -> str:
    """Add the distinct numbers ``numbers_sql`` selects; answers (distinct, added).

    One statement, whatever the count: the numbers go in number order, so both indexes are
    written page after page rather than all over. What a number already listed becomes:
    ``ON_CONFLICT``. The caller holds ``wait_for_sends`` for the org, so no one else adds
    to its list meanwhile.
    """
    return f"""
    WITH given AS MATERIALIZED (
        SELECT DISTINCT number FROM ({numbers_sql}) AS n(number)
    ), written AS (
        INSERT INTO suppressions (org_id, number, reason, source, created_at, expires_at)
        SELECT :org_id, number, :reason, :source, :now, :expires_at FROM given ORDER BY number
        {ON_CONFLICT}
    )
    SELECT (SELECT count(*) FROM given), (SELECT count(*) FROM written WHERE added)
    """


_ADD_GIVEN = text(add_statement("SELECT unnest(CAST(:numbers AS text[]))"))


def add_numbers(
    session: Session, *, numbers: Sequence[str], entries: NewEntries
) -> tuple[int, int]:
    """(distinct numbers, added) for ``numbers``, already in E.164."""
    row = session.execute(_ADD_GIVEN, {"numbers": list(numbers), **entries.params()}).one()
    return int(row[0]), int(row[1])


def list_entries(
    session: Session,
    *,
    org_id: uuid.UUID,
    numbers: Sequence[str] | None,
    reason: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Suppression], int]:
    """A page of the org's entries in number order, expired ones included, and their count;
    only those listed under one of ``numbers``, when given."""
    conditions = [Suppression.org_id == org_id]
    if numbers is not None:
        conditions.append(Suppression.number.in_(list(numbers)))
    if reason is not None:
        conditions.append(Suppression.reason == reason)
    total = session.scalar(select(func.count()).select_from(Suppression).where(*conditions))
    stmt = (
        select(Suppression)
        .where(*conditions)
        .order_by(Suppression.number)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt)), int(total or 0)


def get_entries(
    session: Session, *, org_id: uuid.UUID, numbers: Sequence[str]
) -> list[Suppression]:
    """The org's entries listed under any of ``numbers``, in the order of ``numbers``."""
    stmt = select(Suppression).where(
        Suppression.org_id == org_id, Suppression.number.in_(list(numbers))
    )
    found = {entry.number: entry for entry in session.scalars(stmt)}
    return [found[number] for number in numbers if number in found]


def delete_entries(
    session: Session, *, org_id: uuid.UUID, numbers: Sequence[str]
) -> list[Suppression]:
    """The org's entries listed under any of ``numbers``, removed; in the order of ``numbers``."""
    stmt = (
        delete(Suppression)
        .where(Suppression.org_id == org_id, Suppression.number.in_(list(numbers)))
        .returning(Suppression)
    )
    removed = {entry.number: entry for entry in session.scalars(stmt)}
    return [removed[number] for number in numbers if number in removed]


def _add_opt_outs(*, takes_over: bool) -> Any:
    return text(
        f"""
    WITH written AS (
        INSERT INTO suppressions (org_id, number, reason, source, created_at, expires_at)
        SELECT DISTINCT ON (org_id, number) org_id, number, :reason, source, :now, NULL
        FROM unnest(CAST(:org_ids AS uuid[]), CAST(:numbers AS text[]), CAST(:sources AS text[]))
            AS heard(org_id, number, source)
        ORDER BY org_id, number, source
        {on_conflict(takes_over=takes_over)}
    )
    SELECT count(*) FROM written WHERE added
    """
    )


_ADD_OPT_OUTS = {True: _add_opt_outs(takes_over=True), False: _add_opt_outs(takes_over=False)}


def add_opt_outs(
    session: Session,
    *,
    heard: Sequence[tuple[uuid.UUID, str, str]],
    reason: str,
    now: datetime,
    takes_over: bool = True,
) -> int:
    """Each (org, number, source) on its org's list for good, as ``add_statement`` adds (a
    live entry ends permanent, an opt-out's unless ``takes_over`` is false); the caller holds
    ``wait_for_sends`` for every org. How many were added."""
    if not heard:
        return 0
    params = {
        "org_ids": [org_id for org_id, _, _ in heard],
        "numbers": [number for _, number, _ in heard],
        "sources": [source for _, _, source in heard],
        "reason": reason,
        "now": now,
    }
    return int(session.execute(_ADD_OPT_OUTS[takes_over], params).scalar_one())


def customer_numbers(session: Session, *, call_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Each call's customer number, as the call was made (calls without one left out)."""
    stmt = select(Call.id, Call.customer["number"].astext).where(Call.id.in_(list(call_ids)))
    return {call_id: number for call_id, number in session.execute(stmt) if number}


def opt_out_settings(
    session: Session, *, org_ids: Collection[uuid.UUID], campaign_ids: Collection[uuid.UUID]
) -> tuple[dict[uuid.UUID, dict[str, Any]], dict[uuid.UUID, dict[str, Any]]]:
    """(each org's stored policy, each campaign's stored extensions), where plans are kept."""
    orgs = session.execute(select(Org.id, Org.policy).where(Org.id.in_(list(org_ids))))
    campaigns = session.execute(
        select(Campaign.id, Campaign.extensions).where(Campaign.id.in_(list(campaign_ids)))
    )
    return (
        {row.id: row.policy or {} for row in orgs},
        {row.id: row.extensions or {} for row in campaigns},
    )


_WITHDRAW_TEXT_OPT_OUTS = text(
    f"""
    DELETE FROM suppressions AS s
    USING unnest(CAST(:org_ids AS uuid[]), CAST(:numbers AS text[])) AS w(org_id, number)
    WHERE s.org_id = w.org_id AND s.number = w.number AND {from_text_sql("s")}
    """
)


def withdraw_text_opt_outs(session: Session, *, numbers: Sequence[tuple[uuid.UUID, str]]) -> int:
    """Remove each (org, number)'s entry when it is an opt-out heard in one of the org's
    sessions (never a list's entry, a complaint or an opt-out heard in a call); how many."""
    if not numbers:
        return 0
    params = {
        "org_ids": [org_id for org_id, _ in numbers],
        "numbers": [number for _, number in numbers],
    }
    return int(session.execute(_WITHDRAW_TEXT_OPT_OUTS, params).rowcount)  # type: ignore[attr-defined]
