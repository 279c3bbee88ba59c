"""Storing provider messages: a batch in one go, each message once, duplicates counted."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from orchestrator.metrics.service import counted
from orchestrator.webhooks.messages import new_event
from orchestrator.webhooks.storing import store_events
from tests.factories import placed_calls, status_update, webhook_outcomes

pytestmark = pytest.mark.usefixtures("no_other_webhook_events")


def test_a_batch_is_stored_in_one_go_with_duplicates_stored_once(session: Session) -> None:
    _, (call,) = placed_calls(session)
    ringing = status_update(call, "ringing")
    events = [new_event(m) for m in (ringing, ringing, {"message": {"type": "transcript"}})]
    duplicates_before = counted(
        "orchestrator_webhook_events", type="status-update", outcome="duplicate"
    )

    ids = store_events(session, events)

    assert ids[0] is not None and ids[1] is None and ids[2] is not None
    assert webhook_outcomes(session) == {None: 1, "ignored": 1}, "applied types wait to be applied"
    assert (
        counted("orchestrator_webhook_events", type="status-update", outcome="duplicate")
        == duplicates_before + 1
    )
    assert store_events(session, [new_event(ringing)]) == [None], "and in a later batch too"


def test_a_body_is_stored_as_received_and_one_made_here_as_any_json(session: Session) -> None:
    raw = '{"message": {"type": "transcript", "x": 1.50, "s": "é \\u0001"}}'
    received = new_event(orjson.loads(raw), raw=raw)
    made = new_event({"message": {"type": "transcript", "big": 2**70, "nested": {"n": [1]}}})

    stored = store_events(session, [received, made])
    ids = [event_id for event_id in stored if event_id is not None]
    assert len(ids) == 2

    bodies: dict[int, Any] = dict(
        session.execute(
            text("SELECT id, payload FROM webhook_events WHERE id = ANY(:ids)"),
            {"ids": ids},
        ).all()
    )
    assert bodies[ids[0]] == {"message": {"type": "transcript", "x": 1.5, "s": "é \x01"}}
    assert bodies[ids[1]]["message"]["big"] == 2**70
    assert bodies[ids[1]]["message"]["nested"] == {"n": [1]}
