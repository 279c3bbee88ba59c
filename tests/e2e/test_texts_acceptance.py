"""Texts end to end, judged on the simulator's ground truth, with its faults on.

A 600-contact call campaign with a follow-up text on no-answer and voicemail, run through a
simulator that duplicates, reorders, delays and drops webhooks and answers some creates (of
calls and of chats) with 429s, 5xx errors and held answers:

* every contact whose last call ended with no answer or voicemail got exactly one text, and
  nobody else got one;
* no text went to a number on the suppression list, nor to a customer outside quiet hours;
* the caller number's messages-per-second limit held in every one-second window;
* every "STOP" the simulated customers replied is on the suppression list afterwards, and a
  second campaign to the same numbers skips them.

A 300-contact sms campaign, through the same simulator: every contact not on the suppression
list got exactly one text, its template rendered for it, none went to a listed number, the
caller number's messages per second held, the counters equal a recount, and its receiver got
one ``contact.sms-sent`` per text sent.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from orchestrator.campaigns.counters import counter_drift
from orchestrator.models import Campaign, Chat, ChatSession, Suppression
from orchestrator.orgs.service import create_org
from orchestrator.runner import StackOptions
from orchestrator.scheduling.calling_hours.opening import next_close, next_open
from orchestrator.scheduling.calling_hours.schemas import US_TCPA, profile_hours
from orchestrator.scheduling.calling_hours.zone_key import contact_zone_key
from orchestrator.suppression.text_opt_outs import OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS
from tests.factories import customer_numbers
from tests.support.ground_truth import (
    all_simulator_calls,
    all_simulator_chats,
    all_simulator_sessions,
    max_in_any_second,
    wait_for_end,
)
from tests.support.stack import Stack, e2e_stack
from tests.support.user_server import UserServer, running_user_server

pytestmark = [pytest.mark.e2e, pytest.mark.acceptance]

CONTACTS = 600
SUPPRESSED = 30
QUIET = 20
CALLER = "texts-a"
CALLS_PER_SECOND = 40
MESSAGES_PER_SECOND = 8
FOLLOW_UP_ON = ["customer-did-not-answer", "voicemail"]
FAULTS = (
    "dup=0.2,reorder=0.2,drop=0.05,delay=0.3:0.5,"
    "create_5xx=0.04,create_timeout=0.04,create_429=0.04,timeout_hold=4"
)
STACK_ENV = {
    "ORCH_PROVIDER_TIMEOUT_SECONDS": "2",
    "ORCH_CALL_SILENCE_SECONDS": "5",
    "ORCH_RECOVERY_INTERVAL_SECONDS": "2",
    # A session whose webhooks were dropped is asked for soon.
    "ORCH_SESSION_SILENCE_SECONDS": "5",
}
# Time zones tried, for one where it is the middle of the day and one where it is night.
ZONES = (
    "Pacific/Honolulu",
    "America/Los_Angeles",
    "America/Chicago",
    "America/New_York",
    "Atlantic/Azores",
    "Europe/Berlin",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Pacific/Auckland",
    "Pacific/Kiritimati",
)
# How long the chosen zones must stay as they are: well past the longest run of the test.
ZONE_MARGIN = timedelta(minutes=60)
# What no change within the calling-hours horizon stands for.
NEVER = datetime.max.replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def stack(engine: Engine) -> Iterator[Stack]:
    options = StackOptions(
        api_port=0,
        simulator_port=0,
        workers=2,
        concurrency=6,
        profile="fast",
        seed=17,
        simulator_concurrency_limit=500,
        faults=FAULTS,
    )
    with e2e_stack(options, environment=STACK_ENV) as stack:
        yield stack


def _zone_where(numbers: list[str], *, open_now: bool) -> str:
    """A zone in which the ``us-tcpa`` profile lets ``numbers`` be called now and for the next
    ZONE_MARGIN (``open_now``), or keeps them closed now and for ZONE_MARGIN; read from the
    profile itself, so the numbers' state's weekday rules (Texas: noon on Sundays) count.
    An open key's next opening is now, a closed one's next close is now: each fails its test."""
    now = datetime.now(UTC)
    hours = profile_hours(US_TCPA)
    change = next_close if open_now else next_open
    for zone in ZONES:
        keys = {contact_zone_key(number=n, customer_timezone=zone) for n in numbers}
        if all((change(hours, key, now) or NEVER) >= now + ZONE_MARGIN for key in keys):
            return zone
    raise AssertionError(f"no zone {'open' if open_now else 'closed'} for {ZONE_MARGIN}")


def _client(stack: Stack, api_key: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {api_key}"}
    return httpx.Client(base_url=stack.api_url, headers=headers, timeout=30)


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _campaign(numbers: list[str], zone: str, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "assistantId": "assistant-texts",
        "phoneNumberId": CALLER,
        "maxConcurrency": 100,
        "customers": [
            {"number": n, "name": f"Customer {n[-4:]}", "timezone": zone} for n in numbers
        ],
        "followUpPlan": {
            "sms": {
                "whenEndedReason": FOLLOW_UP_ON,
                "input": "Hi {{customer.name}}, we tried to call you. Reply STOP to opt out.",
                "afterFinalAttempt": True,
            }
        },
    }


def _wait_for_texts(session: Session, org_id: uuid.UUID, timeout: float = 180) -> None:
    """Until no text of the org that can go now is still waiting (the quiet ones wait)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session.expire_all()
        waiting = session.scalars(
            select(Chat.id).where(
                Chat.org_id == org_id,
                Chat.delivery_status.in_(("queued", "sending")),
                Chat.purpose != "api",
            )
        ).all()
        if not waiting:
            return
        time.sleep(1)
    pytest.fail(f"{len(waiting)} texts still waiting")


def _wait_for_opt_outs(
    session: Session, org_id: uuid.UUID, stopped: set[str], timeout: float = 60
) -> set[str]:
    """The numbers of ``stopped`` not listed as opt-outs yet, once all are or time is up (a
    dropped reply is heard when its silent session is polled)."""
    deadline = time.monotonic() + timeout
    while True:
        session.expire_all()
        listed = {
            row.number
            for row in session.scalars(
                select(Suppression).where(
                    Suppression.org_id == org_id, Suppression.reason == "opt-out"
                )
            )
        }
        missing = stopped - listed
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(1)


def _customer_of(chat: dict[str, Any], sessions: dict[str, dict[str, Any]]) -> str:
    return str(sessions[chat["sessionId"]]["customer"]["number"])


def _stops(sessions: list[dict[str, Any]]) -> set[str]:
    """Numbers whose customer's last keyword reply was an opt-out."""
    stopped: set[str] = set()
    for found in sessions:
        said = [
            str(m.get("content") or m.get("message") or "").strip().upper()
            for m in found.get("messages") or []
            if m.get("role") == "user"
        ]
        keywords = [word for word in said if word in OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS]
        if keywords and keywords[-1] in OPT_OUT_KEYWORDS:
            stopped.add(str(found["customer"]["number"]))
    return stopped


def test_follow_up_texts_exactly_once_under_faults(stack: Stack, committed: Session) -> None:
    org = create_org(committed, name=f"texts-{uuid.uuid4()}", concurrency_limit=200)
    committed.commit()
    numbers = customer_numbers(CONTACTS, start=170_000)
    listed = numbers[:SUPPRESSED]
    quiet_numbers = customer_numbers(QUIET, start=171_000)
    open_zone = _zone_where(numbers, open_now=True)
    quiet_zone = _zone_where(quiet_numbers, open_now=False)
    with _client(stack, org.api_key) as client:
        paced = client.put(
            f"/phone-number/{CALLER}/pacing",
            json={"callsPerSecond": CALLS_PER_SECOND, "messagesPerSecond": MESSAGES_PER_SECOND},
        )
        assert paced.status_code == 200, paced.text
        policy = client.put("/policy", json={"callingHoursProfile": "us-tcpa"})
        assert policy.status_code == 200, policy.text
        added = client.post("/suppression", json={"numbers": listed, "reason": "dnc"})
        assert added.status_code in (200, 201), added.text
        # Texts to customers where it is night: held back by quiet hours, never sent.
        quiet_chats = [
            _post(
                client,
                "/chat",
                {
                    "assistantId": "assistant-texts",
                    "input": "A text at night",
                    "transport": {
                        "type": "twilio.sms",
                        "phoneNumberId": CALLER,
                        "customer": {"number": n, "timezone": quiet_zone},
                        "useLLMGeneratedMessageForOutbound": False,
                    },
                },
            )
            for n in quiet_numbers
        ]
        campaign = _post(client, "/v2/campaign", _campaign(numbers, open_zone, "follow-ups"))
        wait_for_end(client, campaign["id"], stack, timeout=300)
        _wait_for_texts(committed, org.org_id)
        time.sleep(8)  # the customers' replies, and their webhooks

        calls = all_simulator_calls(stack, campaign_id=campaign["id"])
        sessions = {s["id"]: s for s in all_simulator_sessions(stack)}
        chats = [c for c in all_simulator_chats(stack) if c.get("sessionId") in sessions]
        texted = Counter(_customer_of(chat, sessions) for chat in chats)

        last_call: dict[str, dict[str, Any]] = {}
        for call in calls:  # oldest first: the last one stays
            last_call[call["customer"]["number"]] = call
        due = {n for n, call in last_call.items() if call.get("endedReason") in FOLLOW_UP_ON}
        print(
            f"texts acceptance: {len(calls)} calls, {len(due)} follow-ups due, "
            f"{sum(texted.values())} texts at the simulator"
        )
        assert due, "some calls ended with no answer or voicemail"
        assert set(texted) == due, "exactly the contacts due a follow-up got a text"
        assert set(texted.values()) == {1}, "nobody got two"
        assert not set(texted) & set(listed), "no text to a suppressed number"
        assert not set(texted) & set(quiet_numbers), "no text outside quiet hours"
        for chat in quiet_chats:
            held = client.get(f"/chat/{chat['id']}").json()
            assert held["delivery"]["status"] == "queued", held

        sent_at = [
            datetime.fromisoformat(c["createdAt"].replace("Z", "+00:00")).timestamp() for c in chats
        ]
        most = max_in_any_second(sent_at)
        print(f"texts acceptance: at most {most} texts in any second ({MESSAGES_PER_SECOND}/s)")
        assert most <= MESSAGES_PER_SECOND

        stopped = _stops(list(sessions.values()))
        print(f"texts acceptance: {len(stopped)} customers replied STOP")
        assert stopped, "some customers replied STOP"
        missing = _wait_for_opt_outs(committed, org.org_id, stopped)
        assert not missing, f"STOP replies not on the suppression list: {sorted(missing)}"

        again = _post(client, "/v2/campaign", _campaign(sorted(stopped), open_zone, "again"))
        wait_for_end(client, again["id"], stack, timeout=120)
        contacts = client.get(
            f"/v2/campaign/{again['id']}/contacts", params={"limit": 1000}
        ).json()["results"]
        assert {c["status"] for c in contacts} == {"contact.skipped"}
        assert {c.get("skipReason") for c in contacts} == {"suppressed"}
        assert not all_simulator_calls(stack, campaign_id=again["id"])


SMS_CONTACTS = 300
SMS_SUPPRESSED = 10
SMS_CALLER = "texts-b"
SMS_MESSAGES_PER_SECOND = 10
SMS_TEMPLATE = "Hi {{customer.name}}, your appointment is {{appointmentTime}}."
APPOINTMENT = "Tuesday at 3pm"


def _sms_campaign(numbers: list[str], receiver: UserServer) -> dict[str, Any]:
    return {
        "name": "texts",
        "assistantId": "assistant-texts",
        "phoneNumberId": SMS_CALLER,
        "channel": "sms",
        "smsPlan": {"input": SMS_TEMPLATE, "useLLMGeneratedMessageForOutbound": False},
        "assistantOverrides": {"variableValues": {"appointmentTime": APPOINTMENT}},
        "customers": [{"number": n, "name": f"Customer {n[-4:]}"} for n in numbers],
        "server": {"url": receiver.url, "timeoutSeconds": 5},
        "serverMessages": ["contact.sms-sent"],
    }


def _sms_recount(session: Session, campaign_id: str) -> dict[str, int]:
    """``smsCounters`` recounted from the campaign's texts and sessions."""
    session.expire_all()
    campaign = uuid.UUID(campaign_id)
    texts = Counter(
        str(status)
        for status in session.scalars(
            select(Chat.delivery_status).where(Chat.campaign_id == campaign)
        )
    )
    sessions = session.scalars(select(ChatSession).where(ChatSession.campaign_id == campaign)).all()
    session.commit()
    return {
        "queued": texts["queued"] + texts["sending"],
        "sent": texts["sent"],
        "failed": texts["failed"],
        "replied": sum(s.replied_at is not None for s in sessions),
        "optedOut": sum(s.opted_out_at is not None for s in sessions),
    }


def _settled_counters(
    client: httpx.Client, session: Session, campaign_id: str, timeout: float = 60
) -> tuple[dict[str, Any], dict[str, int]]:
    """The campaign and its recounted smsCounters once they agree (replies still arriving
    move both), or the last pair read when time is up."""
    deadline = time.monotonic() + timeout
    while True:
        read = client.get(f"/v2/campaign/{campaign_id}").json()
        recount = _sms_recount(session, campaign_id)
        if read.get("smsCounters") == recount or time.monotonic() > deadline:
            return read, recount
        time.sleep(1)


def _contacts(client: httpx.Client, campaign_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v2/campaign/{campaign_id}/contacts", params={"limit": 1000})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def test_an_sms_campaign_texts_each_contact_once_paced(stack: Stack, committed: Session) -> None:
    org = create_org(committed, name=f"sms-{uuid.uuid4()}", concurrency_limit=200)
    committed.commit()
    numbers = customer_numbers(SMS_CONTACTS, start=172_000)
    listed = set(numbers[:: SMS_CONTACTS // SMS_SUPPRESSED])
    assert len(listed) == SMS_SUPPRESSED
    started = time.monotonic()
    with running_user_server() as receiver, _client(stack, org.api_key) as client:
        paced = client.put(
            f"/phone-number/{SMS_CALLER}/pacing",
            json={"callsPerSecond": 10, "messagesPerSecond": SMS_MESSAGES_PER_SECOND},
        )
        assert paced.status_code == 200, paced.text
        added = client.post("/suppression", json={"numbers": sorted(listed), "reason": "dnc"})
        assert added.status_code in (200, 201), added.text
        campaign = _post(client, "/v2/campaign", _sms_campaign(numbers, receiver))
        wait_for_end(client, campaign["id"], stack, timeout=300)
        elapsed = time.monotonic() - started
        time.sleep(5)  # the customers' replies, and their webhooks
        read, recount = _settled_counters(client, committed, campaign["id"])
        contacts = _contacts(client, campaign["id"])

        ours = set(numbers)
        sessions = {
            s["id"]: s
            for s in all_simulator_sessions(stack)
            if s.get("customer", {}).get("number") in ours
        }
        chats = [c for c in all_simulator_chats(stack) if c.get("sessionId") in sessions]
        texted = Counter(_customer_of(chat, sessions) for chat in chats)
        sent_at = [
            datetime.fromisoformat(c["createdAt"].replace("Z", "+00:00")).timestamp() for c in chats
        ]
        most = max_in_any_second(sent_at)
        span = max(sent_at) - min(sent_at)
        print(
            f"sms acceptance: {len(chats)} texts at the simulator in {elapsed:.1f} s, "
            f"{span:.1f} s from the first to the last ({(len(chats) - 1) / span:.1f}/s), "
            f"at most {most} in any second "
            f"({SMS_MESSAGES_PER_SECOND}/s); smsCounters {read.get('smsCounters')}"
        )
        assert set(texted) == ours - listed, "every contact not listed got a text"
        assert set(texted.values()) == {1}, "nobody got two"
        assert not set(texted) & listed, "no text to a suppressed number"
        for chat in chats:
            name = f"Customer {_customer_of(chat, sessions)[-4:]}"
            body = f"Hi {name}, your appointment is {APPOINTMENT}."
            assert [m["content"] for m in chat["output"]] == [body]
            first = sessions[chat["sessionId"]]["messages"][0]
            assert first == {"role": "assistant", "content": body}
        assert most <= SMS_MESSAGES_PER_SECOND

        statuses = Counter(c["status"] for c in contacts)
        assert statuses == {
            "contact.completed": SMS_CONTACTS - SMS_SUPPRESSED,
            "contact.skipped": SMS_SUPPRESSED,
        }
        assert {c["number"] for c in contacts if c["status"] == "contact.skipped"} == listed
        counters = read["contactCounters"]
        assert counters["completed"] == statuses["contact.completed"]
        assert counters["skipped"] == statuses["contact.skipped"]
        assert counters["pending"] == counters["dispatched"] == counters["failed"] == 0
        assert read["smsCounters"] == recount
        assert recount["sent"] == len(chats)
        stored = committed.get_one(Campaign, uuid.UUID(campaign["id"]))
        assert counter_drift(committed, campaign=stored) == {}
        committed.commit()

        def all_sent(received: list[Any]) -> bool:
            ids = {r.message.get("eventId") for r in received}
            return len(ids) >= len(chats)

        receiver.wait_for(all_sent, timeout=60)
        events: dict[str, dict[str, Any]] = {}
        for message in receiver.messages():
            events.setdefault(message["eventId"], message)
    sent_events = [e for e in events.values() if e.get("eventType") == "contact.sms-sent"]
    print(f"sms acceptance: {len(sent_events)} contact.sms-sent events of {len(events)}")
    assert {e.get("eventType") for e in events.values()} == {"contact.sms-sent"}
    by_chat = Counter(e["data"]["chatId"] for e in sent_events)
    assert len(by_chat) == len(chats) and set(by_chat.values()) == {1}
    sent_ids = {
        str(chat_id)
        for chat_id in committed.scalars(
            select(Chat.id).where(
                Chat.campaign_id == uuid.UUID(campaign["id"]), Chat.delivery_status == "sent"
            )
        )
    }
    assert set(by_chat) == sent_ids
