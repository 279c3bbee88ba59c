"""``GET /call``'s index pages exactly as filtering and sorting every call would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.simulator.call_index import CallIndex
from orchestrator.simulator.records import CallQuery, CallRecord

T0 = datetime(2030, 1, 1, tzinfo=UTC)
PHONES = ("pn-a", "pn-b", "pn-c")
ASSISTANTS = ("asst-1", "asst-2")


def record(seq: int, millis: int, phone: str, assistant: str) -> CallRecord:
    created = T0 + timedelta(milliseconds=millis)
    request = {"phoneNumberId": phone, "assistantId": assistant, "customer": {"number": "+1"}}
    return CallRecord(f"call-{seq}", seq, "org", request, None, created, created)


def naive(calls: list[CallRecord], query: CallQuery) -> list[CallRecord]:
    found = [call for call in calls if query.matches(call)]
    found.sort(key=lambda r: (r.created_at, r.seq), reverse=query.newest_first)
    return found[: query.limit]


instants = st.integers(min_value=0, max_value=30)
bounds = st.none() | instants.map(lambda ms: T0 + timedelta(milliseconds=ms))
queries = st.builds(
    CallQuery,
    id=st.none() | st.integers(0, 60).map(lambda n: f"call-{n}"),
    phone_number_id=st.none() | st.sampled_from((*PHONES, "pn-unknown")),
    assistant_id=st.none() | st.sampled_from(ASSISTANTS),
    created_at_gt=bounds,
    created_at_lt=bounds,
    created_at_ge=bounds,
    created_at_le=bounds,
    limit=st.integers(0, 12),
    newest_first=st.booleans(),
)
# Creation times mostly rise, but a clock stepped back makes some earlier than the last.
calls_made = st.lists(
    st.tuples(instants, st.sampled_from(PHONES), st.sampled_from(ASSISTANTS)), max_size=50
)


@settings(max_examples=300, deadline=None)
@given(made=calls_made, forgotten=st.sets(st.integers(0, 50)), query=queries)
def test_a_page_is_what_filtering_and_sorting_every_call_gives(
    made: list[tuple[int, str, str]], forgotten: set[int], query: CallQuery
) -> None:
    index = CallIndex()
    by_id: dict[str, CallRecord] = {}
    for seq, (millis, phone, assistant) in enumerate(made):
        call = record(seq, millis, phone, assistant)
        by_id[call.id] = call
        index.add(call)
    for seq in forgotten:
        if f"call-{seq}" in by_id:
            index.remove(by_id.pop(f"call-{seq}"))

    assert index.page(query, by_id) == naive(list(by_id.values()), query)


def test_calls_created_in_one_millisecond_keep_their_creation_order() -> None:
    index = CallIndex()
    calls = [record(seq, 5, "pn-a", "asst-1") for seq in range(4)]
    for call in calls:
        index.add(call)
    assert index.page(CallQuery(limit=10), {}) == calls[::-1]
    assert index.page(CallQuery(limit=10, newest_first=False), {}) == calls
