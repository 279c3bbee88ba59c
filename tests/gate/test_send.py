"""The send-time check across real, separate connections: exact under concurrency."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from orchestrator.clock import utcnow
from orchestrator.db import session_scope
from orchestrator.gate.decisions import GateDecision, Verdict
from orchestrator.gate.send import pass_send_gate, send_target
from orchestrator.models import CallStatus, Org
from orchestrator.orgs.service import CreatedOrg
from tests.factories import (
    attempts_to,
    customer_numbers,
    direct_call,
    dispatch_campaign,
    make_campaign,
    make_org,
    record_attempt,
    set_caps,
    suppress_rows,
    unit_of,
)

NUMBER = customer_numbers(1, start=9_500)[0]
SENDERS = 8


@pytest.fixture
def committed(engine: Engine) -> Iterator[Session]:
    """The checks run in transactions of their own: what they read must be committed. The
    org goes afterwards with everything of it."""
    session = sessionmaker(bind=engine, expire_on_commit=False)()
    yield session
    session.rollback()
    session.execute(delete(Org).where(Org.name.like("gate-race-%")))
    session.commit()
    session.close()


def _check(call_id: uuid.UUID) -> GateDecision:
    with session_scope() as session:
        target = send_target(session, call_id=call_id)
        assert target is not None
        return pass_send_gate(session, target=target, now=utcnow())


def _race(call_ids: list[uuid.UUID]) -> list[GateDecision]:
    """Every call's check at once, each on a connection of its own."""
    start = threading.Barrier(len(call_ids))
    decisions: list[GateDecision] = []

    def send(call_id: uuid.UUID) -> None:
        start.wait()
        decisions.append(_check(call_id))

    threads = [threading.Thread(target=send, args=(call_id,)) for call_id in call_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(decisions) == len(call_ids)
    return decisions


def _calls_to_one_number(session: Session, org: CreatedOrg) -> list[uuid.UUID]:
    """Half direct calls, half calls of two campaigns, all claimed, all to ``NUMBER``."""
    calls = [
        direct_call(session, org=org, customer={"number": NUMBER}, status=CallStatus.CLAIMED)
        for _ in range(SENDERS // 2)
    ]
    for _ in range(SENDERS // 4):
        customers = [{"number": NUMBER}]
        campaign_id = make_campaign(session, org=org, customers=customers)
        calls += dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=1)
        campaign_id = make_campaign(session, org=org, customers=customers)
        calls += dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=1)
    return calls


@pytest.mark.parametrize("max_attempts", [1, 3])
def test_concurrent_sends_to_one_number_take_exactly_its_allowance(
    committed: Session, max_attempts: int
) -> None:
    org = make_org(committed, name=f"gate-race-{uuid.uuid4()}", concurrency_limit=100)
    set_caps(committed, org=org, caps=[(max_attempts, 86_400)])
    calls = _calls_to_one_number(committed, org)
    committed.commit()
    decisions = _race(calls)
    cleared = [d for d in decisions if d.clear]
    assert len(cleared) == max_attempts
    assert {d.verdict for d in decisions if not d.clear} == {Verdict.CAPPED}
    ledger = attempts_to(committed, org=org, number=NUMBER)
    assert len(ledger) == max_attempts
    # Held back until the earliest of the attempts made leaves the day.
    first_sent = min(attempt.sent_at for attempt in ledger)
    assert {d.until for d in decisions if not d.clear} == {first_sent + timedelta(days=1)}


def test_without_caps_every_send_goes_and_each_is_recorded(committed: Session) -> None:
    org = make_org(committed, name=f"gate-race-{uuid.uuid4()}", concurrency_limit=100)
    calls = _calls_to_one_number(committed, org)
    committed.commit()
    assert all(d.clear for d in _race(calls))
    assert len(attempts_to(committed, org=org, number=NUMBER)) == SENDERS


def test_a_call_checked_again_replaces_its_own_attempt(session: Session) -> None:
    """A call dialed again (the provider had no trace of its first create) is not held back by
    its own earlier attempt, and counts once."""
    org = make_org(session, name=f"gate-again-{uuid.uuid4()}")
    set_caps(session, org=org, caps=[(1, 86_400)])
    call_id = direct_call(session, org=org, customer={"number": NUMBER}, status=CallStatus.CLAIMED)
    for _ in range(2):
        with unit_of(session)() as unit:
            target = send_target(unit, call_id=call_id)
            assert target is not None
            assert pass_send_gate(unit, target=target, now=utcnow()).clear
    assert len(attempts_to(session, org=org, number=NUMBER)) == 1


def test_a_suppressed_number_is_refused_and_nothing_is_recorded(session: Session) -> None:
    org = make_org(session, name=f"gate-again-{uuid.uuid4()}")
    suppress_rows(session, org=org, numbers=[NUMBER])
    call_id = direct_call(session, org=org, customer={"number": NUMBER}, status=CallStatus.CLAIMED)
    target = send_target(session, call_id=call_id)
    assert target is not None
    assert pass_send_gate(session, target=target, now=utcnow()).verdict == Verdict.SUPPRESSED
    assert attempts_to(session, org=org, number=NUMBER) == []


def _check_call_under(session: Session, caps: list[dict[str, object]]) -> GateDecision:
    """A direct call's check after a text to its number an hour ago, under ``caps``."""
    org = make_org(session, name=f"gate-channels-{uuid.uuid4()}")
    session.get_one(Org, org.org_id).policy = {"frequencyCaps": caps}
    record_attempt(session, org=org, number=NUMBER, at=utcnow() - timedelta(hours=1), channel="sms")
    call_id = direct_call(session, org=org, customer={"number": NUMBER}, status=CallStatus.CLAIMED)
    target = send_target(session, call_id=call_id)
    assert target is not None
    return pass_send_gate(session, target=target, now=utcnow())


def test_a_call_is_not_counted_against_a_cap_on_texts_alone(session: Session) -> None:
    cap = {"maxAttempts": 1, "periodSeconds": 86_400, "channels": ["sms"]}
    assert _check_call_under(session, [cap]).clear


def test_a_cap_on_calls_and_texts_counts_a_text_against_a_call(session: Session) -> None:
    cap = {"maxAttempts": 1, "periodSeconds": 86_400, "channels": ["call", "sms"]}
    assert _check_call_under(session, [cap]).verdict == Verdict.CAPPED
