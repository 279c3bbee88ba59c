"""The lock that makes a committed suppression entry final for every send after it.

A send holds the org's lock *shared* from its last suppression check until the provider has
answered its create; whoever adds entries takes it *exclusively* in the transaction that
writes them. So an entry's commit waits for every send that checked before it, and every send
that checks after it sees it: no call reaches the provider after an entry for its number was
committed. Removing entries needs no lock: it only ever allows more.
"""

from __future__ import annotations

import uuid
import zlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

SUPPRESSION_LOCK_SPACE = 7


def _org_key(org_id: uuid.UUID) -> int:
    return zlib.crc32(org_id.bytes) - (1 << 31)


def hold_for_send(session: Session, *, org_id: uuid.UUID) -> None:
    """Held until ``session``'s transaction ends: keep it open until the create is answered."""
    session.execute(
        select(func.pg_advisory_xact_lock_shared(SUPPRESSION_LOCK_SPACE, _org_key(org_id)))
    )


def wait_for_sends(session: Session, *, org_id: uuid.UUID) -> None:
    """Take before writing entries: returns once no send that checked earlier is in flight."""
    session.execute(select(func.pg_advisory_xact_lock(SUPPRESSION_LOCK_SPACE, _org_key(org_id))))
