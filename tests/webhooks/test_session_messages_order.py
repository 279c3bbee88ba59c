"""Session and chat messages in any order, twice, or before our create's answer: the same
end state, parked messages applied once the provider's id is recorded, and deletions kept."""

from __future__ import annotations

import random
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.models import ChatSession, SessionStatus
from orchestrator.orgs.service import CreatedOrg
from orchestrator.webhooks.applying import apply_pending_events
from orchestrator.webhooks.messages import new_event
from orchestrator.webhooks.session_messages import (
    apply_parked_chat_messages,
    apply_parked_session_messages,
    apply_session_snapshot,
)
from orchestrator.webhooks.storing import store_events
from tests.factories import make_org, suppression_entries, webhook_outcomes
from tests.factories.session_messages import (
    chat_message,
    conversation,
    fresh,
    sent_text,
    session_message,
)

pytestmark = pytest.mark.usefixtures("no_other_webhook_events")

# Each snapshot's messages a prefix of the next: how a session's news grows.
SAID = ("When?", "STOP", "ok", "START", "STOP")


def _post(api: TestClient, payload: dict[str, Any]) -> None:
    settings = get_settings()
    headers = {settings.webhook_secret_header: settings.webhook_secret}
    assert api.post("/webhooks/vapi", json=payload, headers=headers).status_code == 200


def _end_state(session: Session, org: CreatedOrg, row: ChatSession) -> tuple[Any, ...]:
    fresh(session, row)
    entries = {
        n: (e.reason, e.source) for n, e in suppression_entries(session, org_id=org.org_id).items()
    }
    return entries, len(row.messages), row.replied_at, row.opted_out_at, row.last_activity_at


@pytest.mark.parametrize("said", [SAID, SAID[:4]], ids=["ends-stop", "ends-start"])
def test_every_order_and_repeat_reaches_the_same_end_state(
    api: TestClient, session: Session, said: tuple[str, ...]
) -> None:
    snapshots = [conversation(*said[:n]) for n in range(len(said) + 1)]
    ends = []
    for seed in range(4):
        org = make_org(session)
        row, _ = sent_text(session, org=org)
        assert row.provider_session_id is not None
        deliveries = snapshots + random.Random(seed).sample(snapshots, 3)
        random.Random(seed).shuffle(deliveries)
        if seed == 0:
            deliveries = snapshots  # in order, as sent
        for messages in deliveries:
            _post(api, session_message(row.provider_session_id, messages))
        entries, *rest = _end_state(session, org, row)
        ends.append(({n: reason for n, (reason, _) in entries.items()}, *rest[:3]))
    assert all(end == ends[0] for end in ends), ends
    listed = said[-1] == "STOP"
    assert bool(ends[0][0]) is listed and (ends[0][3] is not None) is listed


def test_a_message_before_the_create_answer_is_parked_then_applied(
    session: Session,
) -> None:
    org = make_org(session)
    row, chat = sent_text(session, org=org, recorded=False)
    store_events(
        session,
        [
            new_event(session_message("ps-early", conversation("STOP"))),
            new_event(chat_message("pc-early", messages=[{"role": "user", "content": "hi"}])),
        ],
    )
    applied = apply_pending_events(session)
    assert set(applied.outcomes.values()) == {"parked"}
    assert suppression_entries(session, org_id=org.org_id) == {}

    row.provider_session_id, chat.provider_chat_id = "ps-early", "pc-early"
    session.flush()
    assert apply_parked_session_messages(session, chat_session=row) == {row.id}
    apply_parked_chat_messages(session, chat=chat)

    assert [e.source for e in suppression_entries(session, org_id=org.org_id).values()] == [
        str(row.id)
    ]
    fresh(session, chat)
    assert chat.messages == [{"role": "user", "content": "hi"}] and chat.provider_synced_at
    assert webhook_outcomes(session) == {"applied": 2}
    assert apply_parked_session_messages(session, chat_session=row) == frozenset()


def test_the_batch_names_the_sessions_that_got_their_first_reply(session: Session) -> None:
    org = make_org(session)
    replied, silent = sent_text(session, org=org)[0], sent_text(session, org=org)[0]
    assert replied.provider_session_id and silent.provider_session_id
    store_events(
        session,
        [
            new_event(session_message(replied.provider_session_id, conversation("Thanks"))),
            new_event(session_message(silent.provider_session_id, conversation())),
        ],
    )
    assert apply_pending_events(session).replied_session_ids == {replied.id}
    again = conversation("Thanks", "See you")
    store_events(session, [new_event(session_message(replied.provider_session_id, again))])
    assert apply_pending_events(session).replied_session_ids == frozenset(), "only the first"


def test_session_deleted_completes_it_for_good_and_keeps_the_row(
    api: TestClient, session: Session
) -> None:
    org = make_org(session)
    row, _ = sent_text(session, org=org)
    assert row.provider_session_id is not None
    _post(
        api,
        session_message(row.provider_session_id, conversation(), message_type="session.deleted"),
    )
    _post(api, session_message(row.provider_session_id, conversation("hello")))

    fresh(session, row)
    assert row.status == SessionStatus.COMPLETED, "an active snapshot does not reopen it"
    assert len(row.messages) == 2, "its news is still recorded"


def test_chat_created_syncs_and_chat_deleted_is_recorded_on_the_kept_row(
    api: TestClient, session: Session
) -> None:
    org = make_org(session)
    _, chat = sent_text(session, org=org)
    assert chat.provider_chat_id is not None
    output = [{"role": "assistant", "content": "Your appointment is tomorrow at 10."}]
    _post(api, chat_message(chat.provider_chat_id, output=output, cost=0.01))
    fresh(session, chat)
    assert (chat.output, chat.cost, chat.provider_deleted_at) == (output, 0.01, None)

    _post(api, chat_message(chat.provider_chat_id, message_type="chat.deleted"))
    fresh(session, chat)
    assert chat.provider_deleted_at is not None and chat.output == output


def test_a_message_for_no_session_at_all_is_stored_as_unknown(
    api: TestClient, session: Session
) -> None:
    _post(api, {"message": {"type": "session.updated", "session": {"messages": []}}})
    assert webhook_outcomes(session) == {"unknown-call": 1}


def test_a_polled_snapshot_older_than_ours_changes_nothing(session: Session) -> None:
    org = make_org(session)
    row, _ = sent_text(session, org=org)
    newer = {"messages": conversation("STOP", "START"), "status": "completed", "cost": 0.2}
    first = apply_session_snapshot(session, chat_session=row, snapshot=newer, now=utcnow())
    assert first.changed and first.first_reply and first.keyword is not None
    older = {"messages": conversation("STOP"), "status": "active", "cost": 0.1}
    late = apply_session_snapshot(session, chat_session=row, snapshot=older, now=utcnow())

    assert not late.changed and late.keyword is None
    assert (row.status, row.cost, len(row.messages)) == (SessionStatus.COMPLETED, 0.2, 3)
    assert suppression_entries(session, org_id=org.org_id) == {}
