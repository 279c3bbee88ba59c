"""The gate's one decision about one recipient: clear, suppressed, or capped until when.

``decide`` is the only place a verdict is reached, at claim and at send alike; what the
verdict then does to a contact or a call is ``outcomes``'.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from orchestrator.gate.caps import Attempt, Cap, next_allowance
from orchestrator.reasons import FREQUENCY_CAP, SUPPRESSED
from orchestrator.suppression.numbers import MAX_WRITTEN_LENGTH, canonical_number, lookup_forms

# Why a due contact waits when the caps hold it back (``Contact.deferral``).
FREQUENCY_CAP_DEFERRAL = FREQUENCY_CAP


def recipient_key(number: str | None) -> str | None:
    """The number as the attempt ledger counts it and the suppression list's writers store it:
    its canonical E.164 (``+4402079460958`` and ``0014155550100`` are ``+442079460958`` and
    ``+14155550100``), else as written, without spaces."""
    if not number:
        return None
    written = re.sub(r"\s", "", number)[:MAX_WRITTEN_LENGTH] or None
    return canonical_number(number) or written


def listed_forms(number: str | None) -> tuple[str, ...]:
    """What to look up on the suppression list for ``number`` (``lookup_forms``)."""
    return tuple(lookup_forms(number)) if number else ()


@dataclass(frozen=True)
class Prospect:
    """Someone the scheduler could contact: a campaign's contact, or a direct call."""

    # The contact's id; a direct call's own id.
    id: uuid.UUID
    number: str | None
    # The campaign; None for a direct call.
    subject: uuid.UUID | None
    # The last instant it may be contacted: ``schedulePlan.latestAt`` (None: no end).
    window_end: datetime | None
    # Caps on its subject beyond the org's (a calling-hours profile's, by its zone).
    subject_caps: tuple[Cap, ...] = ()
    # Its number as looked up on the suppression list (``listed_forms``).
    listed_as: tuple[str, ...] = ()

    @property
    def is_direct_call(self) -> bool:
        return self.subject is None


class Verdict(StrEnum):
    CLEAR = "clear"
    SUPPRESSED = "suppressed"
    CAPPED = "capped"
    # Outside its calling hours at the send (the claim saw them open): it waits for them.
    CLOSED = "closed"


# Why a due contact waits when its hours closed between its claim and its send.
CALLING_HOURS_DEFERRAL = "calling-hours"
# How soon a contact held back only by attempts not yet sent is judged again: by then they
# were sent (and count) or withdrawn (and do not).
UNSENT_RECHECK = timedelta(seconds=15)


@dataclass(frozen=True)
class GateDecision:
    prospect: Prospect
    verdict: Verdict
    # When capped: the first instant the caps allow an attempt again.
    until: datetime | None = None

    @property
    def clear(self) -> bool:
        return self.verdict == Verdict.CLEAR

    @property
    def deferral(self) -> str:
        """What a contact it holds back waits for (``Contact.deferral``)."""
        return CALLING_HOURS_DEFERRAL if self.verdict == Verdict.CLOSED else FREQUENCY_CAP_DEFERRAL

    @property
    def skip_reason(self) -> str | None:
        """Why it ends without being contacted, or None while it may still be (it waits)."""
        if self.verdict == Verdict.SUPPRESSED:
            return SUPPRESSED
        end = self.prospect.window_end
        if self.verdict == Verdict.CAPPED and end is not None and self.until is not None:
            return FREQUENCY_CAP if self.until >= end else None
        return None


def decide(
    prospect: Prospect,
    *,
    suppressed: bool,
    caps: Sequence[Cap],
    attempts: Sequence[Attempt],
    now: datetime,
) -> GateDecision:
    """The verdict on contacting ``prospect`` now, given its number's suppression and the
    attempts to it (sent, or claimed and about to be) the caps look back on."""
    if prospect.number is None:
        return GateDecision(prospect, Verdict.CLEAR)
    if suppressed:
        return GateDecision(prospect, Verdict.SUPPRESSED)
    every_cap = (*caps, *prospect.subject_caps)
    until = next_allowance(every_cap, attempts, subject=prospect.subject, now=now)
    if until is None:
        return GateDecision(prospect, Verdict.CLEAR)
    end = prospect.window_end
    if end is not None and until >= end and any(not attempt.sent for attempt in attempts):
        # A skip is final, and attempts claimed but not sent may yet be withdrawn: skip only on
        # attempts that were sent; while the unsent ones decide, wait and judge again.
        sent = [attempt for attempt in attempts if attempt.sent]
        if_withdrawn = next_allowance(every_cap, sent, subject=prospect.subject, now=now)
        if if_withdrawn is None or if_withdrawn < end:
            until = max(if_withdrawn or now, now + UNSENT_RECHECK)
    return GateDecision(prospect, Verdict.CAPPED, until)
