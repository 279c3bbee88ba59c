"""The queries of appending contacts to a campaign (the contacts themselves are written by
``repository.copy_contacts``)."""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.models import Contact

# Advisory lock space of appends to a campaign (two-key form; see the others' spaces).
APPEND_LOCK_SPACE = 11
KEY_BATCH = 50_000


def lock_appends(session: Session, *, campaign_id: uuid.UUID) -> None:
    """Appends to one campaign run one at a time, until this transaction ends: each places its
    contacts after the last one and de-duplicates against all of them. Nothing else waits."""
    key = zlib.crc32(campaign_id.bytes) - (1 << 31)
    session.execute(select(func.pg_advisory_xact_lock(APPEND_LOCK_SPACE, key)))


def last_position(session: Session, *, campaign_id: uuid.UUID) -> int:
    """The campaign's last dial-order position; -1 when it has no contacts."""
    last = session.scalar(
        select(func.max(Contact.position)).where(Contact.campaign_id == campaign_id)
    )
    return -1 if last is None else int(last)


def contact_keys(session: Session, *, campaign_id: uuid.UUID) -> Iterator[str]:
    """The de-duplication keys of the campaign's contacts, streamed in batches."""
    stmt = select(Contact.dedupe_key).where(Contact.campaign_id == campaign_id)
    result = session.execute(stmt.execution_options(yield_per=KEY_BATCH))
    for (key,) in result:
        yield key
