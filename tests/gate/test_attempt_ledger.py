"""The ledger of attempts: a batch's rows written in one statement, one row per call."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.gate.repository import record_attempts
from orchestrator.models import RecipientAttempt
from orchestrator.models.recipient_attempt import CALL_CHANNEL
from tests.factories import make_org

BASE = utcnow().replace(microsecond=0)


def _attempt(org_id: uuid.UUID, call_id: uuid.UUID, number: str, seconds: int) -> dict[str, object]:
    return {
        "org_id": org_id,
        "number": number,
        "campaign_id": None,
        "call_id": call_id,
        "channel": CALL_CHANNEL,
        "sent_at": BASE + timedelta(seconds=seconds),
    }


def _ledger(session: Session, org_id: uuid.UUID) -> dict[uuid.UUID, tuple[str, int]]:
    rows = session.execute(
        select(RecipientAttempt.call_id, RecipientAttempt.number, RecipientAttempt.sent_at).where(
            RecipientAttempt.org_id == org_id
        )
    )
    return {
        call_id: (number, round((sent - BASE).total_seconds())) for call_id, number, sent in rows
    }


def test_a_batch_of_attempts_is_written_one_row_per_call(session: Session) -> None:
    org_id = make_org(session).org_id
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    record_attempts(
        session,
        [
            _attempt(org_id, first, "+14155550101", 0),
            _attempt(org_id, second, "+14155550102", 1),
            # The same call given twice in one batch: the last one stands.
            _attempt(org_id, first, "+14155550103", 2),
        ],
    )
    assert _ledger(session, org_id) == {first: ("+14155550103", 2), second: ("+14155550102", 1)}
    # A call checked again later replaces its own row; a new one is added.
    record_attempts(
        session,
        [_attempt(org_id, second, "+14155550104", 5), _attempt(org_id, third, "+14155550105", 6)],
    )
    assert _ledger(session, org_id) == {
        first: ("+14155550103", 2),
        second: ("+14155550104", 5),
        third: ("+14155550105", 6),
    }
    record_attempts(session, [])
    assert len(_ledger(session, org_id)) == 3
