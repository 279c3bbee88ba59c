"""Texts: what ``POST /chat`` makes, and the customer's side of each SMS exchange.

A chat with the SMS transport (``twilio.sms``) and ``phoneNumberId`` + ``customer`` opens a
session for that customer and phone number; with ``sessionId`` it continues that session. The
text sent is the ``input`` itself as an assistant message when
``useLLMGeneratedMessageForOutbound`` is false, else a deterministic assistant text made from
it. It is refused (400) when the phone number is one the simulator knows with ``smsEnabled``
false, or when one side is a US/Canada (``+1``) number and the other is not. A chat without
the transport is a plain API chat, answered with a deterministic assistant ``output``.

Webhooks go where a call's would: ``assistantOverrides.server`` (else the inline assistant's),
the session's for a chat that continues one; ``text_exchanges`` sends them and plays the
customer's reply. Every change is journaled when there is a state dir (``text_store``).

Faults. ``POST /chat`` meets the create faults of ``faults`` like ``POST /call``, decided by
``decide_create`` with the customer number as ``sms:<number>`` (``chat:<sessionId or api>`` for
a plain chat) and the 1-based count of valid ``POST /chat`` for it; the exchange's webhooks
meet the webhook faults with that identity and their position in the exchange. A chat whose
create answer was a 5xx (created) or was held still sends its webhooks and is in ``GET /chat``.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from orchestrator.simulator.faults import CreateDecision, CreateFault, decide_create
from orchestrator.simulator.phone_numbers import derived_number
from orchestrator.simulator.records import now_ms
from orchestrator.simulator.replies import Reply, decide_reply
from orchestrator.simulator.sessions import TEXT_COST, ChatRecord, SessionRecord, server_of
from orchestrator.simulator.state import SimulatorConfig, SimulatorState
from orchestrator.simulator.text_exchanges import Exchange, ExchangePlayer, Spawn, assistant
from orchestrator.simulator.text_store import TextStore
from orchestrator.simulator.webhook_client import WebhookClient
from orchestrator.simulator.webhooks import Message, WebhookSender

RATE_WINDOW_SECONDS = 1.0
SESSION_FIELDS = ("assistantId", "assistant", "assistantOverrides", "squadId", "squad")


class TextRefused(Exception):
    """A valid chat the simulator will not send; ``status_code`` and ``message`` say why."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def input_text(value: Any) -> str:
    """The text of a chat's ``input``: itself, or its last message's string content."""
    if isinstance(value, str):
        return value
    for message in reversed(value if isinstance(value, list) else []):
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            return str(message["content"])
    return ""


def input_messages(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return [dict(message) for message in value]
    return [{"role": "user", "content": str(value)}]


def is_us(number: str) -> bool:
    return number.startswith("+1")


@dataclass(frozen=True, slots=True)
class Created:
    """The chat made (None when the fault decided nothing is) and the create's fault."""

    chat: ChatRecord | None
    decision: CreateDecision


class TextEngine:
    """Makes chats in the state's ``TextStore`` and has each one's exchange played."""

    def __init__(
        self,
        state: SimulatorState,
        config: SimulatorConfig,
        http: WebhookClient,
        spawn: Spawn,
    ) -> None:
        self._state = state
        self._config = config
        sender = WebhookSender(state, config, http)
        self._player = ExchangePlayer(self, sender=sender, state=state, config=config, spawn=spawn)
        self.lock = asyncio.Lock()
        self._windows: defaultdict[str, deque[float]] = defaultdict(deque)

    @property
    def store(self) -> TextStore:
        """The state's, replaced when the state is reset."""
        return self._state.texts

    async def reset(self) -> None:
        """Forget the rate windows (the state's reset emptied the store)."""
        async with self.lock:
            self._windows.clear()

    @property
    def config(self) -> SimulatorConfig:
        return self._config

    async def stats(self) -> dict[str, Any]:
        async with self.lock:
            return self.store.stats()

    async def count_fault(self, name: str) -> None:
        async with self.lock:
            self.store.count_fault(name)

    # ------------------------------------------------------------------ creating a chat

    async def create_chat(self, body: dict[str, Any]) -> Created:
        """Make the chat the (valid) body asks for, unless refused or faulted away."""
        session, number, phone_id = await self._resolve(body)
        key = f"sms:{number}" if number else f"chat:{body.get('sessionId') or 'api'}"
        async with self.lock:
            store = self.store
            index = store.count_request(key)
            config = self._config
            decision = decide_create(
                config.faults, seed=config.seed, number=key, request_index=index
            )
            if decision.fault is not CreateFault.NONE:
                store.count_fault(decision.fault.value)
            if not decision.fault.creates:
                return Created(None, decision)
            chat, opened = self._make(body, session, number=number, phone_id=phone_id)
        exchange = Exchange(self.server_of_chat(chat), key, index)
        reply = self._reply(number) if number else None
        self._player.play(chat, opened, exchange, reply)
        return Created(chat, decision)

    async def _resolve(self, body: dict[str, Any]) -> tuple[SessionRecord | None, str, str]:
        """The session a chat continues and, for a text, its customer number and phone id."""
        session: SessionRecord | None = None
        if (session_id := body.get("sessionId")) is not None:
            session = self.store.sessions.get(session_id)
            if session is None:
                raise TextRefused(404, f"Session {session_id} not found.")
        previous = body.get("previousChatId")
        if previous is not None and previous not in self.store.chats:
            raise TextRefused(404, f"Chat {previous} not found.")
        transport = body.get("transport")
        if not isinstance(transport, dict):
            return session, "", ""
        if session is not None:
            number, phone_id = session.customer_number, session.phone_number_id
            if number is None or phone_id is None:
                raise TextRefused(400, "The session has no customer number or phone number.")
        else:
            number, phone_id = transport["customer"]["number"], transport["phoneNumberId"]
        await self._check_can_text(phone_id, number)
        return session, number, phone_id

    async def _check_can_text(self, phone_id: str, number: str) -> None:
        known = await self._state.phone_number(phone_id)
        sender = derived_number(phone_id) if known is None else known.number
        problem = None
        if known is not None and not known.sms_enabled:
            problem = f"Phone number {phone_id} is not enabled for SMS (smsEnabled is false)."
        elif is_us(sender) != is_us(number):
            problem = (
                f"Phone number {phone_id} ({sender}) cannot text {number}: SMS between US and "
                "non-US numbers is not supported."
            )
        if problem is not None:
            async with self.lock:
                self.store.count_refused()
            raise TextRefused(400, problem)

    def _make(
        self, body: dict[str, Any], session: SessionRecord | None, *, number: str, phone_id: str
    ) -> tuple[ChatRecord, SessionRecord | None]:
        """Store the chat (and the session it opens); called under the lock."""
        store, at = self.store, now_ms()
        transport = body.get("transport")
        text = input_text(body.get("input"))
        opened = None
        if isinstance(transport, dict) and session is None:
            request = {key: body[key] for key in SESSION_FIELDS if key in body}
            request.update(customer=transport["customer"], phoneNumberId=phone_id)
            session = opened = store.new_session(request, at)
        if isinstance(transport, dict):
            assert session is not None
            self._note_rate(phone_id)
            literal = transport.get("useLLMGeneratedMessageForOutbound") is False
            output = [assistant(text if literal else f"Hi! A message for you: {text}")]
            added, cost = output, TEXT_COST
            if session.current_status(at) == "completed":
                session.status = "active"
        else:
            output = [assistant(f"Thanks for your message. You said: {text}")]
            added, cost = input_messages(body.get("input")) + output, 0.0
        context = self._context(body, session)
        reply = self._reply(number).kind.value if number else None
        chat = store.new_chat(
            body, at=at, context=context, output=output, session=session, cost=cost, reply=reply
        )
        if session is not None:
            session.messages.extend(added)
            session.cost += cost
            session.touch(at)
            store.save_session(session)
        return chat, opened

    def _context(self, body: dict[str, Any], session: SessionRecord | None) -> list[dict[str, Any]]:
        if session is not None:
            return list(session.messages)
        previous = self.store.chats.get(str(body.get("previousChatId")))
        if previous is not None:
            return [
                *previous.messages,
                *input_messages(previous.request.get("input")),
                *previous.output,
            ]
        return []

    def _note_rate(self, phone_id: str) -> None:
        now = time.monotonic()
        window = self._windows[phone_id]
        window.append(now)
        while window[0] <= now - RATE_WINDOW_SECONDS:
            window.popleft()
        self.store.raise_rate(phone_id, len(window))

    def _reply(self, number: str) -> Reply:
        return decide_reply(number=number, seed=self._config.seed, profile=self._config.profile)

    def server_of_chat(self, chat: ChatRecord) -> dict[str, Any] | None:
        session = self.store.sessions.get(chat.session_id or "")
        return server_of(chat.request) or (None if session is None else session.server)

    def notify(self, exchange: Exchange, message: Message) -> None:
        """Send one message (a deletion's) on its own."""
        self._player.notify(exchange, message)
