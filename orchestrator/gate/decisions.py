"""The gate's one decision about one recipient: clear, suppressed, or capped until when.

``decide`` is the only place a verdict is reached, at claim and at send alike; what the
verdict then does to a contact or a call is ``outcomes``'.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import phonenumbers

from orchestrator.gate.caps import Attempt, Cap, next_allowance
from orchestrator.reasons import FREQUENCY_CAP, SUPPRESSED
from orchestrator.wire import E164_SHAPE

# Why a due contact waits when the caps hold it back (``Contact.deferral``).
FREQUENCY_CAP_DEFERRAL = FREQUENCY_CAP
NUMBER_KEY_MAX_LENGTH = 64


def recipient_key(number: str | None) -> str | None:
    """The number as the suppression list and the attempt ledger hold it: E.164 where it can
    be read as such (a number taken without the E.164 check may be formatted), else as written."""
    if not number:
        return None
    if E164_SHAPE.match(number):
        return number
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return re.sub(r"\s", "", number)[:NUMBER_KEY_MAX_LENGTH] or None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


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

    @property
    def is_direct_call(self) -> bool:
        return self.subject is None


class Verdict(StrEnum):
    CLEAR = "clear"
    SUPPRESSED = "suppressed"
    CAPPED = "capped"


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
    until = next_allowance(
        (*caps, *prospect.subject_caps), attempts, subject=prospect.subject, now=now
    )
    if until is not None:
        return GateDecision(prospect, Verdict.CAPPED, until)
    return GateDecision(prospect, Verdict.CLEAR)
