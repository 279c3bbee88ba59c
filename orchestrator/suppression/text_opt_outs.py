"""Opt-outs heard in texts: a customer's message that is exactly an opt-out keyword (STOP)
puts the session's customer number on the org's suppression list, one that is exactly an
opt-in keyword (START) takes it off again, if a text put it there.

What counts is a message of the customer (role ``user``) whose whole text, case and the
spaces around it aside, is one keyword: "STOP please" is a conversation, not an opt-out. Of
a session's messages only the last keyword counts, so however its news arrives (late,
twice, out of order: its messages only grow) the number ends as the last keyword left it.

An entry written here has reason ``opt-out`` and our session id as its source; an opt-in
removes only such an entry (its source a session of the same org), never one a list, a
complaint or a call put there. So a text's opt-out takes no live entry over (a DNC entry
stays one, made permanent), and any other writer adding the number takes a text's entry
over (``repository.on_conflict``): a START must never lift what a list put there, before
or after the STOP. Entries are
written set-based, one statement per batch of messages, with the opt-outs heard in calls
(``opt_outs.record_opt_outs``, which takes ``wait_for_sends`` first); removing needs no
lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from orchestrator.suppression import repository
from orchestrator.suppression.numbers import lookup_forms
from orchestrator.suppression.opt_outs import record_opt_outs

OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})


def keyword_of(text: str) -> bool | None:
    """True for an opt-out keyword, False for an opt-in keyword, None for anything else."""
    word = text.strip().upper()
    if word in OPT_OUT_KEYWORDS:
        return True
    if word in OPT_IN_KEYWORDS:
        return False
    return None


@dataclass(frozen=True)
class TextKeyword:
    """The last keyword a customer sent in one session: what it asks of their number."""

    org_id: uuid.UUID
    session_id: uuid.UUID
    number: str | None
    opted_out: bool
    # When it was sent: of two sessions' keywords for one number in a batch, the later wins.
    at: datetime


def settle(
    keywords: Sequence[TextKeyword],
) -> tuple[list[tuple[uuid.UUID, str, str]], list[tuple[uuid.UUID, str]]]:
    """(org, number, source) to list and (org, number) to take off: per number the latest."""
    last: dict[tuple[uuid.UUID, str], TextKeyword] = {}
    for keyword in keywords:
        forms = lookup_forms(keyword.number) if keyword.number else []
        if not forms:
            continue
        key = (keyword.org_id, forms[0])
        if key not in last or keyword.at >= last[key].at:
            last[key] = keyword
    listed = [(org, n, str(k.session_id)) for (org, n), k in last.items() if k.opted_out]
    withdrawn = [(org, n) for (org, n), k in last.items() if not k.opted_out]
    return listed, withdrawn


def withdraw_opt_outs(session: Session, *, numbers: Sequence[tuple[uuid.UUID, str]]) -> int:
    """Take these numbers off their orgs' lists where a text opt-out put them; how many."""
    return repository.withdraw_text_opt_outs(session, numbers=numbers)


def record_text_keywords(
    session: Session, *, keywords: Sequence[TextKeyword], now: datetime
) -> None:
    """The keywords of one batch written: opt-outs listed, opt-ins withdrawn."""
    listed, withdrawn = settle(keywords)
    record_opt_outs(session, ended=(), now=now, heard_in_texts=listed)
    withdraw_opt_outs(session, numbers=withdrawn)
