"""Calls in flight by org and caller number: the busiest numbers one by one, the rest summed
under ``other``, every call in flight counted once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from orchestrator.metrics.gauges import CallsInFlight, CallsInFlightByNumber
from tests.factories import claimed_call, dialing_calls


def _in_flight(session: Session) -> float:
    by_age, _ = CallsInFlight(session).collect()
    return sum(sample.value for sample in by_age.samples)


def test_numbers_past_the_busiest_are_summed_as_other(session: Session) -> None:
    busy = dialing_calls(session, count=3, phone_number_id="metrics-busy")
    quiet = claimed_call(session, customers=1, phone_number_id="metrics-quiet")
    (everything,) = CallsInFlightByNumber(session).collect()
    labels = {(s.labels["org"], s.labels["phone_number_id"]): s.value for s in everything.samples}
    assert labels[str(busy[0].org_id), "metrics-busy"] == 3
    assert labels[str(quiet.org_id), "metrics-quiet"] == 1
    (bounded,) = CallsInFlightByNumber(session, max_series=1).collect()
    assert len(bounded.samples) == 2
    first, other = bounded.samples
    assert other.labels == {"org": "other", "phone_number_id": "other"}
    assert first.value >= 3, "the busiest number is shown"
    assert first.value + other.value == _in_flight(session) == sum(labels.values())
