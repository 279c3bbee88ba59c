"""The queries of appending contacts to a campaign.

The appended rows are COPY'd a chunk at a time into a temporary staging table
(``append_chunk``, dropped at the end of the append or of the transaction), then moved into
``contacts`` by one statement that leaves out the ones whose key the campaign already has or
an earlier row took: the database de-duplicates, so the caller holds nothing of the campaign
however large it is. Every staged row's key stays in ``append_keys`` for the duplicates to be
named.
"""

from __future__ import annotations

import json
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from orchestrator.contacts.repository import COPY_COLUMNS
from orchestrator.contacts.service import NewContact
from orchestrator.models import Contact, ContactStatus

# Advisory lock space of appends to a campaign (two-key form; see the others' spaces).
APPEND_LOCK_SPACE = 11
STAGED_COLUMNS = (
    "row",
    "position",
    "phone_number_id",
    "number",
    "dedupe_key",
    "customer",
    "zone_key",
)

_CREATE_STAGING = (
    """
    CREATE TEMPORARY TABLE append_chunk (
        row integer NOT NULL,
        position integer NOT NULL,
        phone_number_id text,
        number text,
        dedupe_key text NOT NULL,
        customer jsonb NOT NULL,
        zone_key text NOT NULL
    ) ON COMMIT DROP
    """,
    """
    CREATE TEMPORARY TABLE append_keys (
        row integer NOT NULL,
        dedupe_key text NOT NULL
    ) ON COMMIT DROP
    """,
)

# ``ORDER BY row``: of two rows with one key the first is inserted, the second conflicts
# (chunks are moved in row order too).
_MOVE_CHUNK = f"""
WITH kept AS (
    INSERT INTO append_keys SELECT row, dedupe_key FROM append_chunk
), added AS (
    INSERT INTO contacts ({", ".join(COPY_COLUMNS)})
    SELECT gen_random_uuid(), :campaign_id, :org_id, position, phone_number_id, number,
           dedupe_key, customer, :status, 0, zone_key, :now, :now, :now
    FROM append_chunk
    WHERE :into_contacts
    ORDER BY row
    ON CONFLICT (campaign_id, dedupe_key) DO NOTHING
    RETURNING zone_key
)
SELECT zone_key, count(*) FROM added GROUP BY zone_key
"""

# Each staged row whose key an earlier row or a contact already in the campaign (placed
# at or before ``last_position``) has: the first ``limit`` by row, and how many in all.
_DUPLICATES = """
SELECT row, dedupe_key, first_row, count(*) OVER () FROM (
    SELECT s.row, s.dedupe_key,
           CASE WHEN EXISTS (
               SELECT 1 FROM contacts c
               WHERE c.campaign_id = :campaign_id AND c.dedupe_key = s.dedupe_key
                 AND c.position <= :last_position
           ) THEN NULL ELSE min(s.row) OVER (PARTITION BY s.dedupe_key) END AS first_row
    FROM append_keys s
) marked
WHERE first_row IS NULL OR first_row < row
ORDER BY row
LIMIT :limit
"""


@dataclass(frozen=True)
class Duplicate:
    """A staged row whose key is taken: by ``first_row``, or (None) by the campaign."""

    row: int
    dedupe_key: str
    first_row: int | None


def try_lock_appends(session: Session, *, campaign_id: uuid.UUID) -> bool:
    """Appends to one campaign run one at a time, until this transaction ends: each places its
    contacts after the last one. False, at once, when another append holds the campaign."""
    key = zlib.crc32(campaign_id.bytes) - (1 << 31)
    locked = session.scalar(select(func.pg_try_advisory_xact_lock(APPEND_LOCK_SPACE, key)))
    return bool(locked)


def last_position(session: Session, *, campaign_id: uuid.UUID) -> int:
    """The campaign's last dial-order position; -1 when it has no contacts."""
    last = session.scalar(
        select(func.max(Contact.position)).where(Contact.campaign_id == campaign_id)
    )
    return -1 if last is None else int(last)


def create_staging(session: Session) -> None:
    """``append_chunk`` (the rows of one chunk) and ``append_keys`` (every staged row's key)."""
    for statement in _CREATE_STAGING:
        session.execute(text(statement))


def stage_chunk(session: Session, *, contacts: Iterable[tuple[int, NewContact]]) -> None:
    """The contacts with their rows, into ``append_chunk`` in one COPY, streamed as given."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    statement = f"COPY append_chunk ({', '.join(STAGED_COLUMNS)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row, contact in contacts:
            copy.write_row(
                (
                    row,
                    contact.position,
                    contact.phone_number_id,
                    contact.number,
                    contact.dedupe_key,
                    json.dumps(contact.customer),
                    contact.zone_key,
                )
            )


@dataclass(frozen=True)
class ChunkTarget:
    campaign_id: uuid.UUID
    org_id: uuid.UUID
    now: datetime


def move_chunk(session: Session, *, target: ChunkTarget, into_contacts: bool) -> dict[str, int]:
    """The chunk's keys kept, its contacts whose key is free inserted, new and pending (unless
    the append is already refused), and the chunk emptied: how many of each zone key."""
    params = {
        "campaign_id": target.campaign_id,
        "org_id": target.org_id,
        "status": ContactStatus.PENDING.value,
        "now": target.now,
        "into_contacts": into_contacts,
    }
    rows = session.execute(text(_MOVE_CHUNK), params).all()
    session.execute(text("TRUNCATE append_chunk"))
    return {zone_key: int(count) for zone_key, count in rows}


def staged_duplicates(
    session: Session, *, campaign_id: uuid.UUID, last_position: int, limit: int
) -> tuple[list[Duplicate], int]:
    """The first ``limit`` staged rows whose key is taken, by row, and how many there are."""
    params = {"campaign_id": campaign_id, "last_position": last_position, "limit": limit}
    rows = session.execute(text(_DUPLICATES), params).all()
    found = [Duplicate(row, key, first) for row, key, first, _ in rows]
    return found, int(rows[0][3]) if rows else 0


def drop_staging(session: Session) -> None:
    session.execute(text("DROP TABLE append_chunk, append_keys"))
