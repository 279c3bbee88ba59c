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
