"""The send-time check's lock of a recipient: one check of a number at a time, whichever
worker makes it, and a batch's locks taken together."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from orchestrator.gate.repository import (
    RECIPIENT_LOCK_SPACE,
    _recipient_key,
    lock_recipient,
    lock_recipients,
)


def _free(engine: Engine, org_id: uuid.UUID, number: str) -> bool:
    """Whether another connection could take the number's lock now (let go at once)."""
    with engine.connect() as other, other.begin():
        key = _recipient_key(org_id, number)
        return bool(other.scalar(select(func.pg_try_advisory_xact_lock(RECIPIENT_LOCK_SPACE, key))))


def test_a_batch_holds_every_recipient_it_locked_until_its_transaction_ends(
    engine: Engine,
) -> None:
    org_id, other_org = uuid.uuid4(), uuid.uuid4()
    numbers = ["+14155550101", "+14155550102", "+14155550103"]
    with Session(engine) as session:
        lock_recipients(
            session,
            recipients=[
                (org_id, numbers[2]),
                (org_id, numbers[0]),
                (org_id, numbers[0]),
                (org_id, numbers[1]),
                (org_id, None),
            ],
        )
        assert [_free(engine, org_id, n) for n in numbers] == [False, False, False]
        assert _free(engine, other_org, numbers[0]), "another org's number is another lock"
        # Taken again in the same transaction (a check of one call): it does not wait.
        lock_recipient(session, org_id=org_id, number=numbers[1])
        session.rollback()
    assert [_free(engine, org_id, n) for n in numbers] == [True, True, True]


_OWN_ADVISORY_LOCKS = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
)


def test_a_batch_without_numbers_takes_no_lock(engine: Engine) -> None:
    with Session(engine) as session:
        lock_recipients(session, recipients=[])
        lock_recipients(session, recipients=[(uuid.uuid4(), None)])
        assert session.scalar(_OWN_ADVISORY_LOCKS) == 0
        lock_recipients(session, recipients=[(uuid.uuid4(), "+14155550104")])
        assert session.scalar(_OWN_ADVISORY_LOCKS) == 1
        session.rollback()
