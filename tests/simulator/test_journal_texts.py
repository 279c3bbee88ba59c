"""A simulator with a state dir knows, after a restart, every chat and session it made."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from orchestrator.simulator.replies import ReplyKind
from tests.simulator.test_chats import number_replying, text_body
from tests.support.simulators import Sim, journal_lines, running


def call(sim: Sim, method: str, path: str, body: Any = None, **params: Any) -> Any:
    response = httpx.request(
        method, f"{sim.base_url}{path}", json=body, params=params, headers=sim.headers
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def texts_seen(sim: Sim) -> dict[str, Any]:
    """Everything the API shows of the simulator's texts."""
    chats = call(sim, "GET", "/chat", limit=1000)
    sessions = call(sim, "GET", "/session", limit=1000)
    return {
        "chats": chats,
        "sessions": sessions,
        "each": [call(sim, "GET", f"/chat/{c['id']}") for c in chats["results"]]
        + [call(sim, "GET", f"/session/{s['id']}") for s in sessions["results"]],
        "stats": sim.stats()["texts"],
    }


def make_texts(sim: Sim) -> dict[str, str]:
    """Texts that reply, ask and stay silent, a plain chat, a session made, patched, deleted."""
    made = {
        kind.value: call(sim, "POST", "/chat", text_body(number_replying(kind)))
        for kind in (ReplyKind.YES, ReplyKind.QUESTION, ReplyKind.SILENCE)
    }
    again = {**text_body(""), "sessionId": made["yes"]["sessionId"]}
    del again["transport"]["customer"], again["transport"]["phoneNumberId"]
    call(sim, "POST", "/chat", again)
    call(sim, "POST", "/chat", {"assistantId": "asst-1", "input": "hello"})
    session = call(sim, "POST", "/session", {"assistantId": "asst-1", "name": "made"})
    patch = {
        "name": "renamed",
        "status": "completed",
        "messages": [{"role": "user", "content": "x"}],
    }
    call(sim, "PATCH", f"/session/{made['silence']['sessionId']}", patch)
    call(sim, "DELETE", f"/chat/{made['question']['id']}")
    gone = call(sim, "POST", "/session", {"assistantId": "asst-1", "name": "gone"})
    call(sim, "DELETE", f"/session/{gone['id']}")
    return {"yes": made["yes"]["sessionId"], "session": session["id"], "gone": gone["id"]}


def test_a_restart_lists_the_same_chats_and_sessions(tmp_path: Path) -> None:
    with running(tmp_path) as sim:
        ids = make_texts(sim)
        sim.settled()  # every reply came
        before = texts_seen(sim)
    yes_session = next(s for s in before["sessions"]["results"] if s["id"] == ids["yes"])
    # Two texts, each answered YES.
    assert sorted(m["role"] for m in yes_session["messages"]) == ["assistant"] * 2 + ["user"] * 2
    assert before["chats"]["metadata"]["totalItems"] == 4
    assert before["sessions"]["metadata"]["totalItems"] == 4
    assert before["stats"]["replies"] == {"yes": 2, "question": 1, "silence": 1}
    patched = [s for s in before["sessions"]["results"] if s.get("name") == "renamed"]
    assert [s["status"] for s in patched] == ["completed"]
    with running(tmp_path) as sim:
        assert texts_seen(sim) == before
        gone = httpx.get(f"{sim.base_url}/session/{ids['gone']}", headers=sim.headers)
        assert gone.status_code == 404
        # They live on: a text continues a session of the previous run, listed first.
        again = {**text_body(""), "sessionId": ids["yes"]}
        del again["transport"]["customer"], again["transport"]["phoneNumberId"]
        chat = call(sim, "POST", "/chat", again)
        assert call(sim, "GET", "/chat", limit=1)["results"][0]["id"] == chat["id"]
        sim.settled()
        after = texts_seen(sim)
    with running(tmp_path) as sim:
        assert texts_seen(sim) == after
    with running(tmp_path, fresh=True) as sim:
        seen = texts_seen(sim)
        assert seen["chats"]["results"] == seen["sessions"]["results"] == []
        assert seen["stats"]["chatsCreated"] == seen["stats"]["createRequests"] == 0
    with running(tmp_path) as sim:
        assert texts_seen(sim)["chats"]["results"] == []


def test_a_reply_due_when_it_stopped_is_never_played(tmp_path: Path) -> None:
    number = number_replying(ReplyKind.YES)
    with running(tmp_path, profile="realistic") as sim:
        session_id = call(sim, "POST", "/chat", text_body(number))["sessionId"]
    # Under ``instant`` the same customer answers within 20 ms: were it replayed, it would be.
    with running(tmp_path) as sim:
        time.sleep(0.3)
        session = call(sim, "GET", f"/session/{session_id}")
        assert [m["role"] for m in session["messages"]] == ["assistant"]
    kinds = [line["op"] for line in journal_lines(tmp_path)]
    assert kinds.count("sessionRecord") == kinds.count("chatRecord") == 1
