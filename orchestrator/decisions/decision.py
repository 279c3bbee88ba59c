"""What a decision says: its kind, why, when the contact is tried again, and which call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from orchestrator.models.contact_decision import DecisionKind

__all__ = ["Decision", "DecisionKind", "Deferral", "DeferralReason", "GateStage"]


class DeferralReason(StrEnum):
    """Why a due contact waits (a ``deferred`` decision's reason, and ``Contact.deferral``)."""

    CALLING_HOURS = "calling-hours"
    FREQUENCY_CAP = "frequency-cap"
    # The dispatch's room: calls in flight (the org's, the campaign's or the caller number's)
    # or the caller number's calls per second, ``detail.limit`` saying which held it when
    # first recorded. One reason for them all: which one binds flips from tick to tick while
    # calls in flight hover at a caller number's limit, and each flip would be a row.
    CAPACITY = "capacity"
    # The retry plan scheduled another attempt (``retry_at``); recorded when the call ends.
    RETRY = "retry"


class GateStage(StrEnum):
    """Where the gate found a reason not to call: as contacts are claimed, or right before
    the provider is asked to call (a ``suppressed`` decision's reason)."""

    CLAIM = "claim"
    SEND = "send"


@dataclass(frozen=True)
class Decision:
    """One decision about one contact. Its campaign and org are the contact's (read in the
    same statement); ``at`` is the time of recording unless given."""

    contact_id: uuid.UUID
    kind: DecisionKind
    reason: str | None = None
    retry_at: datetime | None = None
    call_id: uuid.UUID | None = None
    detail: dict[str, Any] | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class Deferral:
    """A due contact held back: recorded only if the contact's reason to wait changes."""

    contact_id: uuid.UUID
    reason: str
    retry_at: datetime | None = None
    detail: dict[str, Any] | None = None
