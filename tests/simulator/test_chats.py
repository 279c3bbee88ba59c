"""``/chat`` and ``/session`` over HTTP: texts open sessions, customers reply, faults apply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from orchestrator.simulator import parse_faults
from orchestrator.simulator.replies import ReplyKind, decide_reply
from orchestrator.simulator.sessions import TEXT_COST
from tests.support.simulators import API_KEY, SimulatorHandle, StartSimulator
from tests.support.webhook_receiver import Received, WebhookReceiver

HEADERS = {"Authorization": f"Bearer {API_KEY}"}
PHONE = "sms-line"
WaitUntil = Callable[..., None]


def number_replying(kind: ReplyKind, *, start: int = 0) -> str:
    for i in range(start, start + 10_000):
        number = f"+1666{i:07d}"
        if decide_reply(number=number, seed=0).kind is kind:
            return number
    raise AssertionError(f"no number replies {kind}")


def text_body(
    number: str, receiver: WebhookReceiver | None = None, *, literal: bool = True, **extra: Any
) -> dict[str, Any]:
    overrides: dict[str, Any] = {"metadata": {"orchestratorChatId": f"chat-{number}"}}
    if receiver is not None:
        overrides["server"] = receiver.server()
    return {
        "assistantId": "asst-1",
        "name": "reminder",
        "assistantOverrides": overrides,
        "input": "Your appointment is tomorrow at 10.",
        "transport": {
            "type": "twilio.sms",
            "phoneNumberId": PHONE,
            "customer": {"number": number},
            "useLLMGeneratedMessageForOutbound": not literal,
        },
        **extra,
    }


def post(sim: SimulatorHandle, path: str, body: Any) -> httpx.Response:
    return httpx.post(f"{sim.base_url}{path}", json=body, headers=HEADERS)


def get(sim: SimulatorHandle, path: str, **params: Any) -> Any:
    response = httpx.get(f"{sim.base_url}{path}", params=params, headers=HEADERS)
    assert response.status_code == 200, response.text
    return response.json()


def created(sim: SimulatorHandle, body: dict[str, Any]) -> dict[str, Any]:
    response = post(sim, "/chat", body)
    assert response.status_code == 201, response.text
    chat: dict[str, Any] = response.json()
    return chat


def kinds(received: list[Received]) -> list[str]:
    return [r.message["type"] for r in received]


def test_a_text_opens_a_session_and_a_yes_comes_back(
    simulator: SimulatorHandle, receiver: WebhookReceiver, wait_until: WaitUntil
) -> None:
    number = number_replying(ReplyKind.YES)
    body = text_body(number, receiver)
    chat = created(simulator, body)
    assert chat["output"] == [{"role": "assistant", "content": body["input"]}]
    for key in ("name", "assistantId", "assistantOverrides", "input"):
        assert chat[key] == body[key]
    assert chat["cost"] == TEXT_COST and chat["messages"] == []
    wait_until(lambda: len(receiver.received) == 3)
    simulator.drain()
    assert kinds(receiver.received) == ["session.created", "chat.created", "session.updated"]
    updated = receiver.received[-1].message
    reply = decide_reply(number=number, seed=0).text
    expected = [{"role": "assistant", "content": body["input"]}, {"role": "user", "content": reply}]
    assert updated["session"]["messages"] == expected
    assert updated["customer"] == {"number": number}
    assert updated["phoneNumber"] == {"id": PHONE}
    assert receiver.received[0].headers["x-vapi-secret"] == receiver.secret
    session = get(simulator, f"/session/{chat['sessionId']}")
    assert session == updated["session"]
    assert session["status"] == "active" and session["phoneNumberId"] == PHONE
    assert get(simulator, f"/chat/{chat['id']}") == chat


def test_a_question_gets_the_assistants_answer(
    simulator: SimulatorHandle, receiver: WebhookReceiver
) -> None:
    number = number_replying(ReplyKind.QUESTION)
    chat = created(simulator, text_body(number, receiver, literal=False))
    assert chat["output"][0]["content"] != text_body(number)["input"]  # generated
    simulator.drain()
    assert kinds(receiver.received)[-2:] == ["session.updated", "session.updated"]
    reply = decide_reply(number=number, seed=0)
    last = receiver.received[-1].message["session"]["messages"]
    assert last[-2:] == [
        {"role": "user", "content": reply.text},
        {"role": "assistant", "content": reply.answer},
    ]


def test_silence_sends_only_the_creations(
    simulator: SimulatorHandle, receiver: WebhookReceiver
) -> None:
    chat = created(simulator, text_body(number_replying(ReplyKind.SILENCE), receiver))
    simulator.drain()
    assert kinds(receiver.received) == ["session.created", "chat.created"]
    assert len(get(simulator, f"/session/{chat['sessionId']}")["messages"]) == 1
    texts = httpx.get(f"{simulator.base_url}/simulator/stats").json()["texts"]
    assert texts["chatsCreated"] == texts["sessionsCreated"] == 1
    assert texts["replies"] == {"silence": 1}
    assert texts["maxTextsPerSecondByPhoneNumber"] == {PHONE: 1}


def test_a_chat_in_a_session_continues_it(
    simulator: SimulatorHandle, receiver: WebhookReceiver
) -> None:
    number = number_replying(ReplyKind.SILENCE, start=100)
    first = created(simulator, text_body(number, receiver))
    follow_up = {"input": "See you soon.", "sessionId": first["sessionId"]}
    follow_up["transport"] = {"type": "twilio.sms", "useLLMGeneratedMessageForOutbound": False}
    second = created(simulator, follow_up)
    assert second["sessionId"] == first["sessionId"]
    assert second["messages"] == first["output"]  # the session so far is its context
    simulator.drain()
    assert kinds(receiver.received) == ["session.created", "chat.created", "chat.created"]
    listed = get(simulator, "/chat", sessionId=first["sessionId"])
    assert [c["id"] for c in listed["results"]] == [second["id"], first["id"]]
    session = get(simulator, f"/session/{first['sessionId']}")
    assert [m["content"] for m in session["messages"]] == [first["input"], "See you soon."]
    missing = post(simulator, "/chat", {**follow_up, "sessionId": "nope"})
    assert missing.status_code == 404


def test_a_plain_chat_is_answered_without_a_session(simulator: SimulatorHandle) -> None:
    chat = created(simulator, {"assistantId": "asst-1", "input": "Hello?"})
    assert "sessionId" not in chat
    assert chat["output"] == [
        {"role": "assistant", "content": "Thanks for your message. You said: Hello?"}
    ]
    again = created(
        simulator, {"input": [{"role": "user", "content": "More"}], "previousChatId": chat["id"]}
    )
    assert again["messages"] == [{"role": "user", "content": "Hello?"}, *chat["output"]]


def test_bad_chats_are_400_listing_every_problem(simulator: SimulatorHandle) -> None:
    number = "+14155550100"
    bad = post(
        simulator,
        "/chat",
        {
            "sessionId": "s",
            "previousChatId": "c",
            "transport": {"type": "twilio.whatsapp", "customer": {"number": number}},
        },
    )
    assert bad.status_code == 400
    message = bad.json()["message"]
    assert any("input" in m for m in message)
    assert any("mutually exclusive" in m for m in message)
    assert any("transport.type" in m for m in message)
    assert any("sessionId cannot be used together" in m for m in message)
    assert bad.json()["error"] == "Bad Request"
    half = post(simulator, "/chat", {"input": "x", "transport": {"type": "twilio.sms"}})
    assert half.status_code == 400
    assert post(simulator, "/chat", [1]).status_code == 400
    unauthenticated = httpx.post(f"{simulator.base_url}/chat", json={"input": "x"})
    assert unauthenticated.status_code == 401
    assert get(simulator, "/chat")["metadata"]["totalItems"] == 0


def test_texts_a_number_cannot_send_are_refused(start_simulator: StartSimulator) -> None:
    sim = start_simulator(phone_numbers=("quiet:nosms", "uk=+447700900123"))
    refused = post(
        sim,
        "/chat",
        {
            **text_body("+14155550100"),
            "transport": {
                "type": "twilio.sms",
                "phoneNumberId": "quiet",
                "customer": {"number": "+14155550100"},
            },
        },
    )
    assert refused.status_code == 400 and "smsEnabled" in refused.json()["message"]
    abroad = post(sim, "/chat", text_body("+447700900999"))  # a US number texting the UK
    assert abroad.status_code == 400 and "non-US" in abroad.json()["message"]
    home = text_body("+14155550100")
    home["transport"]["phoneNumberId"] = "uk"
    assert post(sim, "/chat", home).status_code == 400
    home["transport"]["customer"] = {"number": "+447700900999"}
    assert post(sim, "/chat", home).status_code == 201
    texts = httpx.get(f"{sim.base_url}/simulator/stats").json()["texts"]
    assert (texts["refused"], texts["chatsCreated"]) == (3, 1)


def test_lists_filter_and_page(simulator: SimulatorHandle) -> None:
    ids = [created(simulator, text_body(f"+1777000000{i}"))["id"] for i in range(5)]
    middle = get(simulator, f"/chat/{ids[2]}")["createdAt"]
    page = get(simulator, "/chat", limit=2, page=2)
    assert [c["id"] for c in page["results"]] == [ids[2], ids[1]]
    assert page["metadata"] == {
        "itemsPerPage": 2,
        "totalItems": 5,
        "currentPage": 2,
        "sortOrder": "DESC",
    }
    later = get(simulator, "/chat", createdAtGe=middle, sortOrder="ASC")["results"]
    assert {ids[2], ids[3], ids[4]} <= {c["id"] for c in later}
    assert all(c["createdAt"] >= middle for c in later)
    assert [c["createdAt"] for c in later] == sorted(c["createdAt"] for c in later)
    assert get(simulator, "/chat", idAny=f"{ids[0]},{ids[4]}")["metadata"]["totalItems"] == 2
    sessions = get(simulator, "/session", customerNumberAny="+17770000001,+17770000003")
    assert sorted(s["customer"]["number"] for s in sessions["results"]) == [
        "+17770000001",
        "+17770000003",
    ]
    assert get(simulator, "/session", phoneNumberId=PHONE)["metadata"]["totalItems"] == 5
    assert get(simulator, "/session", phoneNumberIdAny="other")["results"] == []
    bad = httpx.get(f"{simulator.base_url}/chat", params={"limit": -1}, headers=HEADERS)
    assert bad.status_code == 400


def test_sessions_crud(simulator: SimulatorHandle, receiver: WebhookReceiver) -> None:
    body = {
        "name": "by hand",
        "customer": {"number": "+14155550177"},
        "phoneNumberId": PHONE,
        "assistantOverrides": {"server": receiver.server()},
    }
    made = post(simulator, "/session", body)
    assert made.status_code == 201, made.text
    session = made.json()
    assert (session["name"], session["status"], session["expirationSeconds"]) == (
        "by hand",
        "active",
        86_400,
    )
    path = f"{simulator.base_url}/session/{session['id']}"
    changes = {
        "name": "renamed",
        "status": "completed",
        "expirationSeconds": 60,
        "messages": [{"role": "user", "content": "hi"}],
    }
    patched = httpx.patch(path, json=changes, headers=HEADERS)
    assert patched.status_code == 200
    assert {k: patched.json()[k] for k in changes} == changes
    bad = httpx.patch(
        path, json={"expirationSeconds": 10, "name": "x" * 41, "other": 1}, headers=HEADERS
    )
    assert bad.status_code == 400 and len(bad.json()["message"]) == 3
    assert get(simulator, "/session", name="renamed")["metadata"]["totalItems"] == 1
    deleted = httpx.delete(path, headers=HEADERS)
    assert deleted.status_code == 200 and deleted.json()["id"] == session["id"]
    assert httpx.get(path, headers=HEADERS).status_code == 404
    simulator.drain()
    assert kinds(receiver.received) == ["session.created", "session.deleted"]


def test_deleting_a_chat_answers_it_and_tells_the_server(
    simulator: SimulatorHandle, receiver: WebhookReceiver
) -> None:
    chat = created(simulator, text_body(number_replying(ReplyKind.SILENCE, start=200), receiver))
    deleted = httpx.delete(f"{simulator.base_url}/chat/{chat['id']}", headers=HEADERS)
    assert deleted.json() == chat
    assert httpx.get(f"{simulator.base_url}/chat/{chat['id']}", headers=HEADERS).status_code == 404
    simulator.drain()
    assert kinds(receiver.received)[-1] == "chat.deleted"
    assert receiver.received[-1].message["chat"]["id"] == chat["id"]


@pytest.mark.parametrize(
    ("faults", "status", "exists"),
    [
        ("create_5xx=1,create_5xx_created=1", {500, 502, 503}, True),
        ("create_5xx=1,create_5xx_created=0", {500, 502, 503}, False),
        ("create_429=1,retry_after=3", {429}, False),
    ],
)
def test_create_faults_apply_to_chats(
    start_simulator: StartSimulator, faults: str, status: set[int], exists: bool
) -> None:
    sim = start_simulator(faults=parse_faults(faults))
    answer = post(sim, "/chat", text_body("+14155550123"))
    assert answer.status_code in status
    if answer.status_code == 429:
        assert answer.headers["Retry-After"] == "3"
    listed = get(sim, "/chat")["results"]
    assert len(listed) == int(exists)
    texts = httpx.get(f"{sim.base_url}/simulator/stats").json()["texts"]
    assert sum(texts["faults"].values()) == 1 and texts["createRequests"] == 1


def test_a_held_create_still_makes_the_chat(start_simulator: StartSimulator) -> None:
    sim = start_simulator(faults=parse_faults("create_timeout=1,timeout_hold=5"))
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{sim.base_url}/chat", json=text_body("+14155550124"), headers=HEADERS, timeout=0.3
        )
    assert get(sim, "/chat")["metadata"]["totalItems"] == 1


def test_webhook_faults_apply_to_texts(
    start_simulator: StartSimulator, receiver: WebhookReceiver
) -> None:
    sim = start_simulator(faults=parse_faults("dup=1,dup_gap=0"))
    created(sim, text_body(number_replying(ReplyKind.YES, start=300), receiver))
    sim.drain()
    assert kinds(receiver.received) == [
        "session.created",
        "session.created",
        "chat.created",
        "chat.created",
        "session.updated",
        "session.updated",
    ]
    assert httpx.get(f"{sim.base_url}/simulator/stats").json()["texts"]["faults"]["dup"] == 3
