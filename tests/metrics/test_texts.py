"""Texts sent, by outcome, and the texts waiting: through the real send flow against a chat
provider over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from orchestrator.calls.placing import PlaceOutcome
from orchestrator.flows import send_text as send_flow
from orchestrator.flows.send_text import send_text
from orchestrator.orgs.service import CreatedOrg
from orchestrator.pacing.limiter import RateLimiter
from orchestrator.providers import VapiClient
from orchestrator.providers.chats import ProviderChats
from tests.factories import unit_of
from tests.factories.texts import queued_text
from tests.support.chat_server import LOST_500, REFUSED, ChatServer, running_chat_server
from tests.support.metrics import Scrape, scrape

SENT = "orchestrator_texts_sent_total"
WAITING = "orchestrator_texts_waiting"


@pytest.fixture
def provider(limiter: RateLimiter, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatServer]:
    with (
        running_chat_server() as server,
        VapiClient(base_url=server.url, api_key="text-test", timeout=5) as client,
    ):
        chats = ProviderChats(client)
        monkeypatch.setattr(send_flow, "provider_chats", lambda: chats)
        monkeypatch.setattr(send_flow, "pacing_limiter", lambda: limiter)
        yield server


def _sent(page: Scrape, outcome: str) -> float:
    return page.value(SENT, outcome=outcome) or 0.0


def _waiting(page: Scrape, status: str) -> float:
    value = page.value(WAITING, status=status)
    assert value is not None, f"{WAITING}{{status={status}}} is always served"
    return value


def test_texts_sent_are_counted_by_outcome_and_the_waiting_ones_by_status(
    api: TestClient, session: Session, org: CreatedOrg, provider: ChatServer
) -> None:
    before = scrape(api)
    texts = [
        queued_text(session, org=org, number=f"+1415555010{n}", phone_number_id=f"sms-{n}")
        for n in range(3)
    ]
    queued = scrape(api)
    assert _waiting(queued, "queued") == _waiting(before, "queued") + 3
    provider.next_answers = [REFUSED, LOST_500]
    outcomes = []
    for chat in texts:
        session.commit()
        outcomes.append(send_text(chat.id, unit_of_work=unit_of(session)).outcome)
    assert outcomes == [PlaceOutcome.FAILED, PlaceOutcome.UNKNOWN, PlaceOutcome.PLACED]
    after = scrape(api)
    for outcome in ("refused", "ambiguous", "accepted"):
        assert _sent(after, outcome) == _sent(before, outcome) + 1, outcome
    assert _sent(after, "unreachable") == _sent(before, "unreachable")
    assert _waiting(after, "queued") == _waiting(before, "queued")
    # The text whose answer was lost stays sending until it is looked up.
    assert _waiting(after, "sending") == _waiting(before, "sending") + 1
