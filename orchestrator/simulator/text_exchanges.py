"""Playing a text's exchange: its webhooks, and the customer's reply as it comes.

An SMS exchange sends ``session.created`` (for a new session) and ``chat.created``, then the
customer's reply (``replies.decide_reply``) as a ``session.updated`` with the whole session,
and for a question the assistant's answer as a second one; replies are session messages, never
chats, so ``GET /chat`` lists exactly the texts that were asked for. Deletions send
``chat.deleted`` / ``session.deleted`` on their own (``notify``). Each change to a session is
journaled as it is made (``text_store``); a reply still to come when the simulator stops is
never played (see ``text_store``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator.simulator.records import now_ms
from orchestrator.simulator.replies import Reply, ReplyKind
from orchestrator.simulator.sessions import ChatRecord, SessionRecord
from orchestrator.simulator.state import SimulatorConfig, SimulatorState
from orchestrator.simulator.webhooks import Message, Outbox, WebhookSender

if TYPE_CHECKING:
    from orchestrator.simulator.chats import TextEngine

Spawn = Callable[[Coroutine[Any, Any, None], str], asyncio.Task[None]]


@dataclass(frozen=True, slots=True)
class Exchange:
    """The identity of an outbox's messages (see ``webhooks.Source``)."""

    server: dict[str, Any] | None
    number: str
    request_index: int


def assistant(content: str) -> dict[str, Any]:
    return {"role": "assistant", "content": content}


def envelope(kind: str, key: str, body: dict[str, Any], session: SessionRecord | None) -> Message:
    message: dict[str, Any] = {"type": kind, "timestamp": int(time.time() * 1000), key: body}
    if session is not None:
        if (customer := session.request.get("customer")) is not None:
            message["customer"] = customer
        if session.phone_number_id is not None:
            message["phoneNumber"] = {"id": session.phone_number_id}
    return {"message": message}


class ExchangePlayer:
    """Sends a text engine's webhooks and plays its customers' replies."""

    def __init__(
        self,
        texts: TextEngine,
        *,
        sender: WebhookSender,
        state: SimulatorState,
        config: SimulatorConfig,
        spawn: Spawn,
    ) -> None:
        self._texts = texts
        self._sender = sender
        self._state = state
        self._config = config
        self._spawn = spawn

    def outbox(self, exchange: Exchange) -> Outbox:
        return Outbox(
            exchange,
            sender=self._sender,
            state=self._state,
            config=self._config,
            spawn=self._spawn,
            count_fault=self._texts.count_fault,
        )

    def notify(self, exchange: Exchange, message: Message) -> None:
        """Send one message (a deletion's) on its own."""

        async def send() -> None:
            outbox = self.outbox(exchange)
            try:
                outbox.put(message, last=True)
                await outbox.close()
            finally:
                outbox.cancel()

        self._spawn(send(), "text-notify")

    def play(
        self,
        chat: ChatRecord,
        opened: SessionRecord | None,
        exchange: Exchange,
        reply: Reply | None,
    ) -> None:
        """Start the exchange of a chat just made."""
        self._spawn(self._play(chat, opened, exchange, reply), f"chat-{chat.id}")

    async def _play(
        self,
        chat: ChatRecord,
        opened: SessionRecord | None,
        exchange: Exchange,
        reply: Reply | None,
    ) -> None:
        outbox = self.outbox(exchange)
        texts = self._texts
        try:
            quiet = reply is None or reply.kind is ReplyKind.SILENCE
            async with texts.lock:
                session = texts.store.sessions.get(chat.session_id or "")
                if opened is not None:
                    outbox.put(envelope("session.created", "session", opened.to_json(), opened))
                outbox.put(envelope("chat.created", "chat", chat.to_json(), session), last=quiet)
            if reply is not None and reply.text is not None and chat.session_id is not None:
                await self._converse(chat.session_id, reply, outbox)
            await outbox.close()
        finally:
            outbox.cancel()

    async def _converse(self, session_id: str, reply: Reply, outbox: Outbox) -> None:
        """The customer's reply, and the assistant's answer to a question."""
        await asyncio.sleep(reply.delay_seconds)
        turns = [({"role": "user", "content": reply.text}, reply.answer is None)]
        if reply.answer is not None:
            turns.append((assistant(reply.answer), True))
        for position, (message, last) in enumerate(turns):
            if position:
                await asyncio.sleep(reply.answer_delay_seconds)
            async with self._texts.lock:
                store = self._texts.store
                session = store.sessions.get(session_id)
                if session is None:
                    return  # deleted meanwhile: nobody is there to answer
                session.messages.append(message)
                session.status = "active"
                session.touch(now_ms())
                store.save_session(session)
                outbox.put(
                    envelope("session.updated", "session", session.to_json(), session), last=last
                )
