"""Vapi's Python SDK against the whole stack: sessions and chats created, listed, read,
changed and deleted, and a text sent through ``chats.create`` with the SMS transport, which
the workers send to the simulator, whose customer answers in the session.

The SDK's parse of every answer is taken as a user of it would; each raw answer is also
checked strictly against the SDK's model (``tests.support.sdk``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DbSession
from vapi import CreateCustomerDto, Vapi
from vapi.core.api_error import ApiError
from vapi.types import Chat, Session, TwilioSmsChatTransport

from orchestrator.orgs.service import create_org
from orchestrator.runner import StackOptions
from orchestrator.simulator.replies import ReplyKind, decide_reply
from tests.factories import customer_numbers
from tests.support.ground_truth import all_simulator_chats, all_simulator_sessions
from tests.support.sdk import checked, strictly
from tests.support.stack import Stack, e2e_stack

pytestmark = [pytest.mark.e2e]

CALLER = "sdk-texts"
SEED = 9


@pytest.fixture(scope="module")
def stack(engine: Engine) -> Iterator[Stack]:
    options = StackOptions(api_port=0, simulator_port=0, workers=1, concurrency=4, seed=SEED)
    with e2e_stack(options) as stack:
        yield stack


class Recorder:
    """The SDK's HTTP client, keeping every raw answer for the strict checks."""

    def __init__(self) -> None:
        self.answers: list[httpx.Response] = []

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        self.answers.append(response)

    def last(self) -> Any:
        return self.answers[-1].json()


def _sdk(stack: Stack, api_key: str) -> tuple[Vapi, Recorder]:
    recorder = Recorder()
    client = httpx.Client(timeout=30, event_hooks={"response": [recorder]})
    return Vapi(token=api_key, base_url=stack.api_url, httpx_client=client), recorder


def _session(raw: dict[str, Any]) -> Session:
    """Checked strictly but for ``messages``: the SDK's union takes a user message for its
    first fit, a ``SystemMessage``, whose role then looks off Vapi's values."""
    assert {m["role"] for m in raw.get("messages") or []} <= {"assistant", "user", "system"}
    return checked(strictly(Session, {**raw, "messages": []}), {**raw, "messages": []})


def _chat(raw: dict[str, Any]) -> Chat:
    return checked(strictly(Chat, raw), raw)


def _delivered(vapi: Vapi, recorder: Recorder, chat_id: str, timeout: float = 30) -> dict[str, Any]:
    """The text's answer once the workers have sent it (``delivery.status`` no longer queued)."""
    deadline = time.monotonic() + timeout
    while True:
        assert vapi.chats.get(chat_id).id == chat_id
        answer: dict[str, Any] = recorder.last()
        _chat(answer)
        if answer["delivery"]["status"] != "queued" or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)


def _listed(stack: Stack, api_key: str, number: str, timeout: float = 15) -> dict[str, Any]:
    """The number's suppression entry once it is there."""
    deadline = time.monotonic() + timeout
    while True:
        response = httpx.get(
            f"{stack.api_url}/suppression/{number}",
            headers={"Authorization": f"Bearer {api_key}"},
        )
        if response.status_code == 200 or time.monotonic() > deadline:
            assert response.status_code == 200, response.text
            answer: dict[str, Any] = response.json()
            return answer
        time.sleep(0.5)


def test_the_sdk_texts_a_customer_and_keeps_its_session(stack: Stack, committed: DbSession) -> None:
    org = create_org(committed, name=f"sdk-texts-{uuid.uuid4()}", concurrency_limit=10)
    committed.commit()
    vapi, recorder = _sdk(stack, org.api_key)
    # A customer who answers "STOP": heard through the webhook (a silent session is asked
    # only after a minute), so the number is on the suppression list within seconds.
    number = next(
        n
        for n in customer_numbers(2000, start=190_000)
        if decide_reply(number=n, seed=SEED).kind is ReplyKind.STOP
    )

    created = vapi.chats.create(
        assistant_id="assistant-sdk",
        input="Your appointment is tomorrow at 10. Reply STOP to opt out.",
        transport=TwilioSmsChatTransport(
            type="twilio.sms",
            phone_number_id=CALLER,
            customer=CreateCustomerDto(number=number, name="Ada"),
            use_llm_generated_message_for_outbound=False,
        ),
    )
    assert isinstance(created, Chat) and created.session_id
    assert recorder.last()["delivery"] == {"status": "queued"}
    _chat(recorder.last())

    sent = _delivered(vapi, recorder, created.id)
    assert sent["delivery"]["status"] == "sent", sent
    sessions = {s["id"]: s for s in all_simulator_sessions(stack)}
    texts_to_number = [
        chat
        for chat in all_simulator_chats(stack)
        if sessions.get(chat.get("sessionId"), {}).get("customer", {}).get("number") == number
    ]
    assert len(texts_to_number) == 1, "the simulator got the text once"
    listed = _listed(stack, org.api_key, number)
    assert (listed["reason"], listed["source"]) == ("opt-out", created.session_id), listed
    assert vapi.sessions.get(created.session_id).id == created.session_id
    said = [m for m in recorder.last()["messages"] if m["role"] == "user"]
    assert [str(m.get("content") or m.get("message")).strip().upper() for m in said] == ["STOP"]

    listed = vapi.chats.list(session_id=created.session_id)
    assert [c.id for c in listed.results] == [created.id]
    one = vapi.sessions.get(created.session_id)
    _session(recorder.last())
    assert one.customer is not None and one.customer.number == number
    assert one.phone_number_id == CALLER

    renamed = vapi.sessions.update(created.session_id, name="Ada's reminders")
    assert renamed.name == "Ada's reminders"
    _session(recorder.last())
    found = vapi.sessions.list(customer_number_any=number)
    assert [s.id for s in found.results] == [created.session_id]

    opened = vapi.sessions.create(assistant_id="assistant-sdk", name="Front desk")
    _session(recorder.last())
    plain = vapi.chats.create(assistant_id="assistant-sdk", input="Hello", session_id=opened.id)
    assert isinstance(plain, Chat) and plain.session_id == opened.id
    assert plain.output, "a plain chat answers with the assistant's output"
    _chat(recorder.last())
    assert vapi.chats.delete(plain.id).id == plain.id
    assert vapi.sessions.delete(opened.id).id == opened.id
    with pytest.raises(ApiError) as raised:
        vapi.sessions.get(opened.id)
    assert raised.value.status_code == 404
