"""Campaign counters: what each one counts, how a change moves them, and their recount.

This module alone names the counters. Each counts the campaign's contacts or calls in some
states (``CONTACT_COUNTERS``, ``CALL_COUNTERS``); a change of state moves them by the counts
of the new states minus those of the old (``counter_deltas``), and a recount from the rows
adds up the same tables (``counters_from_rows``), so the two cannot disagree on a status.

The stored counters are the sums of the campaign's shard rows (``counter_repository``); the
recount and the stored sums are read from one snapshot, so a comparison is never confused
by a transaction that committed between reading the rows and reading the counters.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.calls.ended_reasons import VOICEMAIL_REASON
from orchestrator.campaigns import counter_repository
from orchestrator.contacts.states import ContactStatus
from orchestrator.models import CallStatus, Campaign, CampaignCounters
from orchestrator.models.campaign_counter_shard import COUNTER_COLUMNS

# Vapi's contactCounters: one counter per contact status.
CONTACT_COUNTER: dict[ContactStatus, str] = {
    ContactStatus.PENDING: "contacts_pending",
    ContactStatus.DISPATCHED: "contacts_dispatched",
    ContactStatus.COMPLETED: "contacts_completed",
    ContactStatus.FAILED: "contacts_failed",
    ContactStatus.SKIPPED: "contacts_skipped",
    ContactStatus.PREDIAL_FAILED: "contacts_predial_failed",
}
# A pending contact is also a call yet to be made: Vapi's callsCounterScheduled.
CONTACT_COUNTERS: dict[ContactStatus, tuple[str, ...]] = {
    status: (name, "calls_counter_scheduled") if status == ContactStatus.PENDING else (name,)
    for status, name in CONTACT_COUNTER.items()
}
# Vapi's calls counters by the call's status. Not counted: a direct call waiting for its
# time (it has no campaign) and a call the provider never had (its contact is counted).
CALL_COUNTERS: dict[CallStatus, tuple[str, ...]] = {
    CallStatus.SCHEDULED: (),
    CallStatus.CLAIMED: ("calls_counter_queued",),
    CallStatus.DIALING: ("calls_counter_queued",),
    CallStatus.QUEUED: ("calls_counter_queued",),
    CallStatus.RINGING: ("calls_counter_in_progress",),
    CallStatus.IN_PROGRESS: ("calls_counter_in_progress",),
    CallStatus.FORWARDING: ("calls_counter_in_progress",),
    CallStatus.ENDED: ("calls_counter_ended",),
    CallStatus.FAILED: (),
}
# A call that ended in voicemail is counted once more.
VOICEMAIL_COUNTER = "calls_counter_ended_voicemail"

assert set(CONTACT_COUNTER) == set(ContactStatus), "every contact status is counted"
assert set(CALL_COUNTERS) == set(CallStatus), "every call status is in the table"


class CounterDeltas(Mapping[str, int]):
    """How far each counter moves; counters that do not move are left out.

    Deltas add up (one transaction's changes, a batch's) and scale (n contacts alike).
    """

    __slots__ = ("_moves",)

    def __init__(self, moves: Mapping[str, int] | Iterable[tuple[str, int]] = ()) -> None:
        summed: Counter[str] = Counter()
        for name, delta in moves.items() if isinstance(moves, Mapping) else moves:
            if name not in COUNTER_COLUMNS:
                raise KeyError(name)
            summed[name] += delta
        self._moves = {name: summed[name] for name in COUNTER_COLUMNS if summed[name]}

    def __getitem__(self, name: str) -> int:
        return self._moves[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._moves)

    def __len__(self) -> int:
        return len(self._moves)

    def __add__(self, other: Mapping[str, int]) -> CounterDeltas:
        return CounterDeltas([*self.items(), *other.items()])

    def __neg__(self) -> CounterDeltas:
        return self * -1

    def __mul__(self, times: int) -> CounterDeltas:
        return CounterDeltas({name: delta * times for name, delta in self.items()})

    def __repr__(self) -> str:
        return f"CounterDeltas({self._moves!r})"


def _counted_in(
    contact: ContactStatus | None, call: CallStatus | None, ended_reason: str | None
) -> list[str]:
    names = [*CONTACT_COUNTERS[contact]] if contact is not None else []
    if call is not None:
        names.extend(CALL_COUNTERS[call])
        if call == CallStatus.ENDED and ended_reason == VOICEMAIL_REASON:
            names.append(VOICEMAIL_COUNTER)
    return names


def counter_deltas(
    *,
    contact_before: ContactStatus | None = None,
    contact_after: ContactStatus | None = None,
    call_before: CallStatus | None = None,
    call_after: CallStatus | None = None,
    ended_reason: str | None = None,
) -> CounterDeltas:
    """How the counters move when a contact and its call go from one state to another.

    None is "no such row": a contact made, a claimed call withdrawn, or a side that does not
    change. ``ended_reason`` is the call's (set once, when it ends).
    """
    moves: Counter[str] = Counter(_counted_in(contact_after, call_after, ended_reason))
    moves.subtract(_counted_in(contact_before, call_before, ended_reason))
    return CounterDeltas(moves)


def contacts_in(counters: CampaignCounters, status: ContactStatus) -> int:
    """How many of the campaign's contacts are in ``status``."""
    return int(getattr(counters, CONTACT_COUNTER[status]))


def counters_from_rows(
    *,
    contacts_by_status: Mapping[str, int],
    calls_by_status: Mapping[str, int],
    calls_ended_voicemail: int,
) -> dict[str, int]:
    """What every counter must be, given the campaign's contacts and calls counted by status."""
    counts = dict.fromkeys(COUNTER_COLUMNS, 0)
    for status, count in contacts_by_status.items():
        for name in CONTACT_COUNTERS[ContactStatus(status)]:
            counts[name] += count
    for status, count in calls_by_status.items():
        for name in CALL_COUNTERS[CallStatus(status)]:
            counts[name] += count
    counts[VOICEMAIL_COUNTER] += calls_ended_voicemail
    return counts


def counters_and_recount(
    session: Session, *, campaign_id: uuid.UUID
) -> tuple[dict[str, int], dict[str, int]]:
    """``(stored, recounted)``, both as of one snapshot."""
    read = counter_repository.rows_and_counters(
        session, campaign_id=campaign_id, ended_reason=VOICEMAIL_REASON
    )
    recounted = counters_from_rows(
        contacts_by_status=read.contacts_by_status,
        calls_by_status=read.calls_by_status,
        calls_ended_voicemail=read.calls_ended_with_reason,
    )
    return read.stored.as_dict(), recounted


def stored_counters(session: Session, *, campaign_id: uuid.UUID) -> dict[str, int]:
    """The counters as stored now: the sums over the campaign's shards."""
    counters = counter_repository.counters_of(session, campaign_ids=[campaign_id])
    return counters[campaign_id].as_dict()


def recount_counters(session: Session, *, campaign_id: uuid.UUID) -> dict[str, int]:
    return counters_and_recount(session, campaign_id=campaign_id)[1]


def drift_between(stored: Mapping[str, int], recounted: Mapping[str, int]) -> dict[str, int]:
    """Stored minus recounted, for every counter that differs (empty when exact)."""
    return {
        name: stored[name] - recounted[name]
        for name in COUNTER_COLUMNS
        if stored[name] != recounted[name]
    }


def counter_drift(session: Session, *, campaign: Campaign) -> dict[str, int]:
    """Stored minus recounted, for every counter that differs (empty when exact)."""
    stored, recounted = counters_and_recount(session, campaign_id=campaign.id)
    return drift_between(stored, recounted)


# --- the counters in Vapi's Campaign ------------------------------------------------------------

# The calls counters, each a field of the Campaign response, in its order.
CALL_COUNTER_FIELDS = (
    ("callsCounterScheduled", "calls_counter_scheduled"),
    ("callsCounterQueued", "calls_counter_queued"),
    ("callsCounterInProgress", "calls_counter_in_progress"),
    ("callsCounterEndedVoicemail", VOICEMAIL_COUNTER),
    ("callsCounterEnded", "calls_counter_ended"),
)


def _camel(status: ContactStatus) -> str:
    first, *rest = status.value.split("-")
    return first + "".join(word.capitalize() for word in rest)


# Each counter's place in the Campaign response: a field, or a key of ``contactCounters``.
COUNTER_WIRE_NAMES = {
    **{name: field for field, name in CALL_COUNTER_FIELDS},
    **{name: f"contactCounters.{_camel(status)}" for status, name in CONTACT_COUNTER.items()},
}
assert set(COUNTER_WIRE_NAMES) == set(COUNTER_COLUMNS), "every counter is on the wire"


def counters_to_wire(counters: CampaignCounters, *, contacts_total: int) -> dict[str, Any]:
    """The counter fields of the Campaign response, in its order."""
    contacts = {_camel(status): contacts_in(counters, status) for status in CONTACT_COUNTER}
    return {
        **{field: getattr(counters, name) for field, name in CALL_COUNTER_FIELDS},
        "contactCounters": {**contacts, "total": contacts_total},
    }


def drift_to_wire(drift: Mapping[str, int]) -> dict[str, int]:
    return {COUNTER_WIRE_NAMES[name]: delta for name, delta in drift.items()}
