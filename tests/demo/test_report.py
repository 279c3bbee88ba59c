"""The demo's report: a summary of the campaign and its counters checked against a recount."""

from __future__ import annotations

from typing import Any

from orchestrator.demo.report import counter_mismatches, summarize


def _campaign(**counters: Any) -> dict[str, Any]:
    calls = {
        "c1": {"status": "ended", "endedReason": "voicemail"},
        "c2": {"status": "ended", "endedReason": "customer-ended-call"},
        "c3": {"status": "ended", "endedReason": "customer-ended-call"},
    }
    body: dict[str, Any] = {
        "id": "campaign-1",
        "status": "ended",
        "calls": calls,
        "callsCounterQueued": 0,
        "callsCounterInProgress": 0,
        "callsCounterEnded": 3,
        "callsCounterEndedVoicemail": 1,
        "contactCounters": {"completed": 2, "failed": 1, "total": 3},
    }
    body.update(counters)
    return body


def test_counters_are_checked_against_a_recount_of_the_calls_map() -> None:
    assert counter_mismatches(_campaign()) == []
    assert counter_mismatches(_campaign(callsCounterEnded=4)) == [
        "callsCounterEnded is 4, recount 3"
    ]
    summary = summarize(_campaign(), wall_seconds=2.0)
    assert summary.ended_reasons == {"customer-ended-call": 2, "voicemail": 1}
    assert summary.calls_per_second == 1.5


def test_act_two_sends_one_text_to_each_customer_due_a_follow_up() -> None:
    follow_up_on = ("voicemail",)
    texts = {"queued": 0, "sent": 1, "failed": 0, "replied": 1, "optedOut": 0}
    summary = summarize(_campaign(smsCounters=texts), wall_seconds=2.0, follow_up_on=follow_up_on)
    assert (summary.mismatches, summary.texts["replied"]) == ([], 1)
    late = {**texts, "queued": 1, "sent": 0}
    assert summarize(
        _campaign(smsCounters=late), wall_seconds=2.0, follow_up_on=follow_up_on
    ).mismatches == ["1 follow-up texts still queued"]
    twice = {**texts, "sent": 2}
    assert summarize(
        _campaign(smsCounters=twice), wall_seconds=2.0, follow_up_on=follow_up_on
    ).mismatches == ["2 follow-up texts for 1 customers due one"]
