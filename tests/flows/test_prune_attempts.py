"""The attempt ledger is cleared of attempts older than any frequency cap looks back on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from orchestrator.flows import prune_attempts as prune_flow
from orchestrator.flows.prune_attempts import prune_old_attempts
from orchestrator.orgs.service import CreatedOrg
from tests.factories import attempts_to, customer_numbers, record_attempt, unit_of

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
NUMBER = customer_numbers(1, start=9_700)[0]


def test_attempts_older_than_the_longest_cap_go_in_batches_and_the_rest_stay(
    session: Session, org: CreatedOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    for days in (400, 367, 366.5, 365, 1):
        record_attempt(session, org=org, number=NUMBER, at=NOW - timedelta(days=days))
    monkeypatch.setattr(prune_flow, "PRUNE_BATCH", 2)
    deleted = prune_old_attempts(unit_of_work=unit_of(session), clock=lambda: NOW)
    assert deleted >= 3
    kept = [NOW - attempt.sent_at for attempt in attempts_to(session, org=org, number=NUMBER)]
    assert kept == [timedelta(days=365), timedelta(days=1)]
