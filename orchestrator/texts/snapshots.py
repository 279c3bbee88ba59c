"""The provider's Session and Chat objects folded into our rows, whoever brought them (a
``session.updated`` message or a poll's ``GET /session/{id}``). Pure: no queries.

A session's messages only grow, so the longer list is the newer: a snapshot whose list is
not longer than ours changes no message, and an old snapshot arriving late undoes nothing.
``completed`` is final. The first customer message after our first text is the reply
(``replied_at``); the last opt-out or opt-in keyword among the messages new to us is what
the customer asks of their number (``TextKeyword``, written by ``text_opt_outs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from orchestrator.models import Chat, ChatSession, SessionStatus
from orchestrator.suppression.text_opt_outs import TextKeyword, keyword_of
from orchestrator.texts.service import customer_number_of

CUSTOMER_ROLE = "user"
# How our side's messages are written: chats say ``assistant``, call transcripts ``bot``.
OUR_ROLES = ("assistant", "bot")
# A message ``time`` above this is in milliseconds (as Vapi writes it), else in seconds.
MILLISECONDS_FROM = 10**11


@dataclass(frozen=True)
class SnapshotApplied:
    """What one snapshot changed of its session."""

    changed: bool = False
    # The customer's first reply was found in it (``replied_at`` set just now).
    first_reply: bool = False
    # The customer's last keyword among the messages new to us, if any.
    keyword: TextKeyword | None = None


def message_text(message: Any) -> str | None:
    if not isinstance(message, dict):
        return None
    for key in ("message", "content"):
        if isinstance(message.get(key), str):
            return str(message[key])
    return None


def message_time(message: Any) -> datetime | None:
    """When it was sent: epoch milliseconds or seconds, or an ISO 8601 string."""
    value = message.get("time") if isinstance(message, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > MILLISECONDS_FROM else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _role(message: Any) -> Any:
    return message.get("role") if isinstance(message, dict) else None


def _later(known: datetime | None, seen: datetime) -> datetime:
    return seen if known is None or seen > known else known


def first_reply_at(messages: list[Any], *, now: datetime) -> datetime | None:
    """The time of the customer's first message after our first one (now, if it has none)."""
    ours = next((i for i, m in enumerate(messages) if _role(m) in OUR_ROLES), None)
    if ours is None:
        return None
    for message in messages[ours + 1 :]:
        if _role(message) == CUSTOMER_ROLE:
            return message_time(message) or now
    return None


def last_keyword(messages: list[Any], *, now: datetime) -> tuple[bool, datetime] | None:
    """(opted out, when) of the customer's last keyword message among ``messages``."""
    for message in reversed(messages):
        text = message_text(message) if _role(message) == CUSTOMER_ROLE else None
        keyword = keyword_of(text) if text is not None else None
        if keyword is not None:
            return keyword, message_time(message) or now
    return None


def _take_messages(chat_session: ChatSession, messages: Any, *, now: datetime) -> list[Any]:
    """The messages new to us (the snapshot's list when it is longer), stored."""
    known = chat_session.messages or []
    if not isinstance(messages, list) or len(messages) <= len(known):
        return []
    chat_session.messages = messages
    newest = max((t for t in map(message_time, messages) if t is not None), default=None)
    chat_session.last_activity_at = _later(chat_session.last_activity_at, newest or now)
    return messages[len(known) :]


def _take_costs(row: ChatSession | Chat, snapshot: dict[str, Any], *, newest: bool) -> bool:
    """Cost and costs (and a session's artifact) of a snapshot not older than what we hold."""
    cost = snapshot.get("cost")
    if not newest or not isinstance(cost, int | float) or (row.cost or 0) > cost:
        return False
    changed = row.cost != cost
    row.cost = float(cost)
    if isinstance(snapshot.get("costs"), list) and row.costs != snapshot["costs"]:
        row.costs, changed = snapshot["costs"], True
    return changed


def _keyword(
    chat_session: ChatSession, new: list[Any], snapshot: dict[str, Any], *, now: datetime
) -> TextKeyword | None:
    found = last_keyword(new, now=now)
    if found is None:
        return None
    opted_out, at = found
    # Set at the last opt-out, cleared by a later opt-in: what the customer asks now.
    chat_session.opted_out_at = at if opted_out else None
    number = chat_session.customer_number or customer_number_of(snapshot.get("customer"))
    return TextKeyword(chat_session.org_id, chat_session.id, number, opted_out, at)


def absorb_session(
    chat_session: ChatSession, *, snapshot: dict[str, Any], now: datetime
) -> SnapshotApplied:
    """Fold one provider Session object into our row (locked by the caller)."""
    new = _take_messages(chat_session, snapshot.get("messages"), now=now)
    changed = bool(new)
    if snapshot.get("status") == SessionStatus.COMPLETED:
        changed |= complete_session(chat_session)
    not_older = len(snapshot.get("messages") or []) >= len(chat_session.messages or [])
    changed |= _take_costs(chat_session, snapshot, newest=not_older)
    artifact = snapshot.get("artifact")
    if not_older and isinstance(artifact, dict) and artifact != chat_session.artifact:
        chat_session.artifact, changed = artifact, True
    first_reply = False
    if chat_session.replied_at is None:
        chat_session.replied_at = first_reply_at(chat_session.messages or [], now=now)
        first_reply = chat_session.replied_at is not None
    chat_session.provider_synced_at = _later(chat_session.provider_synced_at, now)
    keyword = _keyword(chat_session, new, snapshot, now=now)
    return SnapshotApplied(changed or first_reply, first_reply, keyword)


def complete_session(chat_session: ChatSession) -> bool:
    """Completed for good (the provider ended or deleted it); True if it was active."""
    if chat_session.status == SessionStatus.COMPLETED:
        return False
    chat_session.status = SessionStatus.COMPLETED
    return True


def absorb_chat(chat: Chat, *, chat_obj: dict[str, Any], deleted: bool, now: datetime) -> bool:
    """Fold one provider Chat object into our row (locked by the caller); True if it changed.
    A deleted chat keeps its row, with when the provider said so."""
    changed = False
    for name in ("messages", "output"):
        value, known = chat_obj.get(name), getattr(chat, name) or []
        if isinstance(value, list) and len(value) > len(known):
            setattr(chat, name, value)
            changed = True
    changed |= _take_costs(chat, chat_obj, newest=True)
    if deleted and chat.provider_deleted_at is None:
        chat.provider_deleted_at, changed = now, True
    chat.provider_synced_at = _later(chat.provider_synced_at, now)
    return changed
