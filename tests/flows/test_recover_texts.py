"""Texts whose answer was lost looked up within the window their create could have been made
in; sessions kept in step by polling when their news stops, and completed once idle past their
``expirationSeconds`` with no text still to go out in them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.flows import recover_texts as recover_flow
from orchestrator.flows.recover_texts import run_text_recovery
from orchestrator.models import Chat, ChatSession, SessionStatus, TextStatus
from orchestrator.orgs.service import CreatedOrg
from orchestrator.providers import VapiClient
from orchestrator.providers.chats import ProviderChats
from tests.factories import unit_of
from tests.factories.texts import queued_text
from tests.support.chat_server import ChatServer, running_chat_server


@pytest.fixture
def provider() -> Iterator[tuple[ChatServer, ProviderChats]]:
    with (
        running_chat_server() as server,
        VapiClient(base_url=server.url, api_key="poll-test", timeout=5) as client,
    ):
        yield server, ProviderChats(client)


def _session(session: Session, org: CreatedOrg, *, settled: bool = True) -> ChatSession:
    chat = queued_text(session, org=org)
    if settled:
        chat.delivery_status = TextStatus.SENT
    return session.get_one(ChatSession, chat.session_id)


def _stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _made(server: ChatServer, *, at: datetime, chat_id: str = "someone-else") -> None:
    server.create(
        {"input": "hi", "assistantOverrides": {"metadata": {"orchestratorChatId": chat_id}}}
    )
    server.chats[-1]["createdAt"] = _stamp(at)


def _lost(session: Session, org: CreatedOrg, *, sent_at: datetime) -> Chat:
    chat = queued_text(session, org=org)
    chat.delivery_status, chat.sent_at, chat.due_at = TextStatus.SENDING, sent_at, None
    return chat


def test_a_lookup_reads_only_the_window_and_a_crowded_one_does_not_stop_the_rest(
    session: Session,
    org: CreatedOrg,
    provider: tuple[ChatServer, ProviderChats],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, chats = provider
    monkeypatch.setattr(recover_flow, "PAGE_SIZE", 2)
    monkeypatch.setattr(recover_flow, "MAX_PAGES", 1)
    now = utcnow()
    crowded = _lost(session, org, sent_at=now - timedelta(hours=2))
    found = _lost(session, org, sent_at=now - timedelta(hours=1))
    for _ in range(3):
        _made(server, at=now - timedelta(hours=2))  # more than the crowded text's listing holds
    _made(server, at=now - timedelta(hours=1), chat_id=str(found.id))
    for _ in range(3):
        _made(server, at=now)  # made since: outside the found text's window
    session.commit()
    sweep = run_text_recovery(now=now, chats=chats, unit_of_work=unit_of(session))
    # The sweep is every org's: texts other runs left being sent count too.
    assert sweep.failed >= 1 and sweep.found >= 1
    session.refresh(crowded)
    session.refresh(found)
    assert (crowded.delivery_status, found.delivery_status) == (TextStatus.SENDING, TextStatus.SENT)
    assert crowded.due_at is not None and crowded.due_at > now  # asked again later


def test_a_silent_session_is_polled_and_takes_the_providers_messages(
    session: Session, org: CreatedOrg, provider: tuple[ChatServer, ProviderChats]
) -> None:
    server, chats = provider
    heard = _session(session, org)
    quiet = _session(session, org)
    gone = _session(session, org)
    now = utcnow()
    heard.provider_session_id, heard.provider_synced_at = "prov-heard", now
    # Silent for days, so asked before any session other runs left; the provider no longer
    # knows the first.
    gone.provider_session_id, gone.provider_synced_at = "prov-gone", now - timedelta(days=3)
    quiet.provider_session_id, quiet.provider_synced_at = "prov-quiet", now - timedelta(days=2)
    reply = {"role": "user", "message": "YES"}
    for snapshot_id in ("prov-heard", "prov-quiet"):
        server.sessions[snapshot_id] = {"id": snapshot_id, "status": "active", "messages": [reply]}
    session.commit()
    # The sweep is every org's: sessions other runs left count too, so ours are judged.
    sweep = run_text_recovery(now=now, chats=chats, unit_of_work=unit_of(session))
    assert sweep.polled >= 1
    for row in (heard, quiet, gone):
        session.refresh(row)
    assert (quiet.messages, heard.messages) == ([reply], [])
    assert quiet.provider_synced_at is not None and quiet.provider_synced_at >= now
    assert (gone.status, quiet.status) == (SessionStatus.COMPLETED, SessionStatus.ACTIVE)
    synced = quiet.provider_synced_at
    run_text_recovery(now=now, chats=chats, unit_of_work=unit_of(session))
    session.refresh(quiet)
    assert quiet.provider_synced_at == synced  # heard from a moment ago: not asked again


def test_a_session_idle_past_its_expiration_is_completed(
    session: Session, org: CreatedOrg, provider: tuple[ChatServer, ProviderChats]
) -> None:
    _, chats = provider
    now = utcnow()
    idle, busy, short = (_session(session, org) for _ in range(3))
    idle.last_activity_at = now - timedelta(days=1, seconds=1)
    busy.last_activity_at = now - timedelta(hours=23)
    short.expiration_seconds, short.last_activity_at = 60, now - timedelta(seconds=61)
    session.commit()
    sweep = run_text_recovery(now=now, chats=chats, unit_of_work=unit_of(session))
    assert sweep.expired >= 2
    for row in (idle, busy, short):
        session.refresh(row)
    assert (idle.status, busy.status, short.status) == (
        SessionStatus.COMPLETED,
        SessionStatus.ACTIVE,
        SessionStatus.COMPLETED,
    )


def test_a_session_with_a_text_still_to_go_out_is_not_expired(
    session: Session, org: CreatedOrg, provider: tuple[ChatServer, ProviderChats]
) -> None:
    _, chats = provider
    now = utcnow()
    waiting = _session(session, org, settled=False)  # its text held back by quiet hours, say
    waiting.last_activity_at = now - timedelta(days=2)
    session.commit()
    run_text_recovery(now=now, chats=chats, unit_of_work=unit_of(session))
    session.refresh(waiting)
    assert waiting.status == SessionStatus.ACTIVE
