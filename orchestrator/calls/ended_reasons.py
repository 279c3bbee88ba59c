"""Categories of Vapi's call ``endedReason`` values (``ended_reasons.tsv``: value, category, hint).

The category decides a contact's outcome: a call that reached a person or their voicemail
completes the contact; anything else fails it.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

ANSWERED_CATEGORIES = frozenset(
    {
        "completed-assistant",
        "completed-customer-hangup",
        "completed-transferred",
        "telephony-completed",
        "timeout-max-duration",
        "timeout-silence",
        "transfer",
        "voicemail",
    }
)
VOICEMAIL_REASON = "voicemail"
# A person picked up (Vapi's ``callMetrics.connected``): every answered category but voicemail.
# The line was answered and no machine was detected, whoever ended the call and however
# (the customer, the assistant, a transfer, the telephony side, a timeout).
PERSON_ANSWERED_CATEGORIES = ANSWERED_CATEGORIES - {"voicemail"}


@lru_cache(maxsize=1)
def ended_reason_table() -> dict[str, tuple[str, str]]:
    text = resources.files("orchestrator.calls").joinpath("ended_reasons.tsv").read_text()
    table: dict[str, tuple[str, str]] = {}
    for row in csv.reader(text.splitlines(), delimiter="\t"):
        if len(row) >= 3:
            table[row[0]] = (row[1], row[2])
    return table


def category_of(ended_reason: str | None) -> str:
    if not ended_reason:
        return "unknown"
    return ended_reason_table().get(ended_reason, ("unknown", "no"))[0]


def completes_contact(ended_reason: str | None) -> bool:
    return category_of(ended_reason) in ANSWERED_CATEGORIES


@lru_cache(maxsize=1)
def completing_ended_reasons() -> frozenset[str]:
    """Every known ``endedReason`` that completes a contact."""
    return frozenset(
        r for r, (category, _) in ended_reason_table().items() if category in ANSWERED_CATEGORIES
    )


@lru_cache(maxsize=1)
def person_answered_ended_reasons() -> frozenset[str]:
    """Every known ``endedReason`` of a call a person answered (see PERSON_ANSWERED_CATEGORIES)."""
    return frozenset(
        r
        for r, (category, _) in ended_reason_table().items()
        if category in PERSON_ANSWERED_CATEGORIES
    )
