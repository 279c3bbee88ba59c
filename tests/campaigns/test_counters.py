"""Campaign counters: what each counts, how every transition moves them, and the recount."""

from __future__ import annotations

import itertools

import pytest

from orchestrator.campaigns.counters import (
    CALL_COUNTERS,
    CONTACT_COUNTER,
    COUNTER_WIRE_NAMES,
    CounterDeltas,
    counter_deltas,
    counters_from_rows,
    counters_to_wire,
    drift_to_wire,
)
from orchestrator.contacts.states import ContactEvent, next_contact_status
from orchestrator.models import CallStatus, CampaignCounters, ContactStatus
from orchestrator.models.campaign_counter_shard import COUNTER_COLUMNS


@pytest.mark.parametrize(
    ("status", "bucket"),
    [
        (CallStatus.SCHEDULED, None),
        (CallStatus.CLAIMED, "calls_counter_queued"),
        (CallStatus.DIALING, "calls_counter_queued"),
        (CallStatus.QUEUED, "calls_counter_queued"),
        (CallStatus.RINGING, "calls_counter_in_progress"),
        (CallStatus.IN_PROGRESS, "calls_counter_in_progress"),
        (CallStatus.FORWARDING, "calls_counter_in_progress"),
        (CallStatus.ENDED, "calls_counter_ended"),
        (CallStatus.FAILED, None),
    ],
)
def test_counter_bucket(status: CallStatus, bucket: str | None) -> None:
    assert CALL_COUNTERS[status] == ((bucket,) if bucket else ())


def test_every_status_has_its_counter_and_every_counter_a_place_on_the_wire() -> None:
    assert set(CONTACT_COUNTER) == set(ContactStatus)
    assert set(CALL_COUNTERS) == set(CallStatus)
    assert set(COUNTER_WIRE_NAMES) == set(COUNTER_COLUMNS)


def test_deltas_add_scale_and_leave_out_what_does_not_move() -> None:
    one = CounterDeltas({"contacts_pending": -1, "contacts_skipped": 1})
    assert dict(one + one) == {"contacts_pending": -2, "contacts_skipped": 2}
    assert dict(one * 3 + -one) == {"contacts_pending": -2, "contacts_skipped": 2}
    assert dict(one + -one) == {} and not CounterDeltas({"contacts_failed": 0})
    with pytest.raises(KeyError):
        CounterDeltas({"contacts_lost": 1})


def test_a_new_campaign_counts_each_contact_pending_and_as_a_call_scheduled() -> None:
    assert dict(counter_deltas(contact_after=ContactStatus.PENDING) * 3) == {
        "calls_counter_scheduled": 3,
        "contacts_pending": 3,
    }


def test_a_claim_moves_a_contact_to_dispatched_and_a_call_to_queued() -> None:
    deltas = counter_deltas(
        contact_before=ContactStatus.PENDING,
        contact_after=ContactStatus.DISPATCHED,
        call_after=CallStatus.CLAIMED,
    )
    assert dict(deltas) == {
        "calls_counter_scheduled": -1,
        "calls_counter_queued": 1,
        "contacts_pending": -1,
        "contacts_dispatched": 1,
    }


def test_a_withdrawn_claim_undoes_the_claim() -> None:
    deltas = counter_deltas(
        contact_before=ContactStatus.DISPATCHED,
        contact_after=ContactStatus.PENDING,
        call_before=CallStatus.DIALING,
    )
    assert dict(deltas) == {
        "calls_counter_scheduled": 1,
        "calls_counter_queued": -1,
        "contacts_pending": 1,
        "contacts_dispatched": -1,
    }


def test_a_call_ended_in_voicemail_is_counted_once_more() -> None:
    deltas = counter_deltas(
        contact_before=ContactStatus.DISPATCHED,
        contact_after=ContactStatus.COMPLETED,
        call_before=CallStatus.IN_PROGRESS,
        call_after=CallStatus.ENDED,
        ended_reason="voicemail",
    )
    assert dict(deltas) == {
        "calls_counter_in_progress": -1,
        "calls_counter_ended": 1,
        "calls_counter_ended_voicemail": 1,
        "contacts_dispatched": -1,
        "contacts_completed": 1,
    }


def test_a_retry_makes_the_contact_a_scheduled_call_again() -> None:
    deltas = counter_deltas(
        contact_before=ContactStatus.DISPATCHED,
        contact_after=ContactStatus.PENDING,
        call_before=CallStatus.RINGING,
        call_after=CallStatus.ENDED,
        ended_reason="customer-busy",
    )
    assert dict(deltas) == {
        "calls_counter_scheduled": 1,
        "calls_counter_in_progress": -1,
        "calls_counter_ended": 1,
        "contacts_pending": 1,
        "contacts_dispatched": -1,
    }


def _recount(contacts: dict[ContactStatus, int], calls: dict[CallStatus, int]) -> dict[str, int]:
    return counters_from_rows(
        contacts_by_status={status.value: n for status, n in contacts.items()},
        calls_by_status={status.value: n for status, n in calls.items()},
        calls_ended_voicemail=0,
    )


CONTACT_MOVES = [
    (status, after)
    for status, event in itertools.product(ContactStatus, ContactEvent)
    if (after := next_contact_status(status, event)) is not None
]


@pytest.mark.parametrize(("before", "after"), CONTACT_MOVES, ids=str)
def test_every_contact_transition_moves_the_counters_as_a_recount_sees_it(
    before: ContactStatus, after: ContactStatus
) -> None:
    deltas = counter_deltas(contact_before=before, contact_after=after)
    old, new = _recount({before: 1}, {}), _recount({after: 1}, {})
    assert dict(deltas) == {n: new[n] - old[n] for n in COUNTER_COLUMNS if new[n] != old[n]}


@pytest.mark.parametrize(("before", "after"), list(itertools.product(CallStatus, CallStatus)))
def test_every_call_move_moves_the_counters_as_a_recount_sees_it(
    before: CallStatus, after: CallStatus
) -> None:
    deltas = counter_deltas(call_before=before, call_after=after)
    old, new = _recount({}, {before: 1}), _recount({}, {after: 1})
    assert dict(deltas) == {n: new[n] - old[n] for n in COUNTER_COLUMNS if new[n] != old[n]}


def test_the_recount_counts_pending_contacts_as_scheduled_calls() -> None:
    recounted = counters_from_rows(
        contacts_by_status={"pending": 2, "dispatched": 1, "predial-failed": 1},
        calls_by_status={"claimed": 1, "ended": 3, "failed": 2},
        calls_ended_voicemail=1,
    )
    assert {n: v for n, v in recounted.items() if v} == {
        "calls_counter_scheduled": 2,
        "calls_counter_queued": 1,
        "calls_counter_ended": 3,
        "calls_counter_ended_voicemail": 1,
        "contacts_pending": 2,
        "contacts_dispatched": 1,
        "contacts_predial_failed": 1,
    }


def test_the_wire_shows_every_counter_in_vapis_order() -> None:
    counters = CampaignCounters(*range(1, len(COUNTER_COLUMNS) + 1))
    wire = counters_to_wire(counters, contacts_total=21)
    assert list(wire) == [
        "callsCounterScheduled",
        "callsCounterQueued",
        "callsCounterInProgress",
        "callsCounterEndedVoicemail",
        "callsCounterEnded",
        "contactCounters",
    ]
    assert [wire[k] for k in list(wire)[:5]] == [1, 2, 3, 5, 4]
    assert wire["contactCounters"] == {
        "pending": 6,
        "dispatched": 7,
        "completed": 8,
        "failed": 9,
        "skipped": 10,
        "predialFailed": 11,
        "total": 21,
    }
    assert drift_to_wire({"contacts_predial_failed": 1, "calls_counter_ended": -2}) == {
        "contactCounters.predialFailed": 1,
        "callsCounterEnded": -2,
    }
