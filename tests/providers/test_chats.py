"""ProviderChats against a running simulator: texts, sessions, refusals and ambiguous creates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from orchestrator.providers import ProviderError, ProviderRejected, VapiClient
from orchestrator.providers.chats import ProviderChats
from orchestrator.simulator import parse_faults
from tests.support.simulators import API_KEY, Sim, running

PHONE = "text-line"


def sms(number: str, text: str = "See you tomorrow at 10.") -> dict[str, Any]:
    return {
        "assistantId": "asst-1",
        "input": text,
        "assistantOverrides": {"metadata": {"orchestratorChatId": f"ours-{number}"}},
        "transport": {
            "type": "twilio.sms",
            "phoneNumberId": PHONE,
            "customer": {"number": number},
            "useLLMGeneratedMessageForOutbound": False,
        },
    }


@pytest.fixture
def sim() -> Iterator[Sim]:
    with running(None, phone_numbers=(PHONE, "abroad=+447700900123")) as served:
        yield served


@pytest.fixture
def chats(sim: Sim) -> Iterator[ProviderChats]:
    with VapiClient(base_url=sim.base_url, api_key=API_KEY, timeout=5.0) as client:
        yield ProviderChats(client)


def test_a_text_is_created_got_and_listed(chats: ProviderChats) -> None:
    before = datetime.fromisoformat(chats.create_chat({"input": "warm-up"})["createdAt"])
    chat = chats.create_chat(sms("+14155550101"))
    assert chat["sessionId"] and chat["output"][0]["content"] == "See you tomorrow at 10."
    assert chat["assistantOverrides"]["metadata"] == {"orchestratorChatId": "ours-+14155550101"}
    assert chats.get_chat(chat["id"]) == chat
    assert chats.list_chats(session_id=chat["sessionId"]) == [chat]
    later = chats.list_chats(created_at_ge=before + timedelta(milliseconds=1))
    assert chat["id"] in [c["id"] for c in later]
    earlier = chats.list_chats(created_at_le=before)
    assert chat["id"] not in [c["id"] for c in earlier] and earlier
    assert chats.list_chats(limit=1, page=5) == []
    assert chats.delete_chat(chat["id"])["id"] == chat["id"]
    with pytest.raises(ProviderRejected) as gone:
        chats.get_chat(chat["id"])
    assert gone.value.status_code == 404


def test_sessions_crud(chats: ProviderChats) -> None:
    made = chats.create_session({"customer": {"number": "+14155550102"}, "phoneNumberId": PHONE})
    assert chats.get_session(made["id"]) == made
    listed = chats.list_sessions(customer_number="+14155550102", phone_number_id=PHONE)
    assert [s["id"] for s in listed] == [made["id"]]
    updated = chats.update_session(made["id"], {"name": "renamed", "status": "completed"})
    assert (updated["name"], updated["status"]) == ("renamed", "completed")
    continued = chats.create_chat(
        {"input": "Still there?", "sessionId": made["id"], "transport": {"type": "twilio.sms"}}
    )
    assert continued["sessionId"] == made["id"]
    assert chats.get_session(made["id"])["status"] == "active"  # a new text reopens it
    assert chats.delete_session(made["id"])["id"] == made["id"]
    assert chats.list_sessions(customer_number="+14155550102") == []


def test_a_refused_text_is_provider_rejected(chats: ProviderChats) -> None:
    bad = sms("+447700900999")  # a US number cannot text the UK
    with pytest.raises(ProviderRejected) as refused:
        chats.create_chat(bad)
    assert refused.value.status_code == 400 and not refused.value.ambiguous
    both = {**sms("+14155550103"), "sessionId": "some-session"}
    with pytest.raises(ProviderRejected) as invalid:
        chats.create_chat(both)
    assert "sessionId cannot be used together" in str(invalid.value)
    assert chats.list_chats() == []


def test_a_5xx_that_created_the_chat_is_ambiguous_and_the_chat_is_listed() -> None:
    faults = parse_faults("create_5xx=1,create_5xx_created=1")
    with (
        running(None, phone_numbers=(PHONE,), faults=faults) as sim,
        VapiClient(base_url=sim.base_url, api_key=API_KEY, timeout=5.0) as client,
    ):
        chats = ProviderChats(client)
        with pytest.raises(ProviderError) as failed:
            chats.create_chat(sms("+14155550104"))
        assert failed.value.ambiguous and (failed.value.status_code or 0) >= 500
        (found,) = chats.list_chats()
        assert found["assistantOverrides"]["metadata"]["orchestratorChatId"] == (
            "ours-+14155550104"
        )
