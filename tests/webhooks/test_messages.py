"""Reading the provider's messages: dedupe keys, how each is stored, what it says of a call."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from orchestrator.calls.provider_reports import EndOfCallReport, StatusReport
from orchestrator.models import CallStatus, WebhookOutcome
from orchestrator.webhooks.messages import call_report, dedupe_key, metadata_call_id, new_event
from orchestrator.webhooks.repository import PENDING, StoredEvent


def _stored(message: dict[str, Any]) -> StoredEvent:
    return StoredEvent(1, str(message["type"]), None, {"message": message})


def test_the_same_message_has_the_same_key_whatever_its_key_order() -> None:
    first = {"type": "status-update", "status": "ringing", "call": {"id": "c1"}}
    reordered = {"call": {"id": "c1"}, "status": "ringing", "type": "status-update"}
    assert dedupe_key(first) == dedupe_key(reordered)
    assert dedupe_key(first) != dedupe_key(first | {"status": "in-progress"})
    assert len(dedupe_key({"type": "x", "wide": 2**70})) == 64, "wider than 64 bits"


def test_applied_types_wait_to_be_applied_and_others_are_ignored() -> None:
    update = new_event({"message": {"type": "status-update", "call": {"id": "c1"}}})
    transcript = new_event({"message": {"type": "transcript", "call": {"id": "x" * 201}}})
    assert (update.outcome, update.provider_call_id) == (PENDING, "c1")
    assert (transcript.outcome, transcript.provider_call_id) == (WebhookOutcome.IGNORED, None)


@pytest.mark.parametrize("status", ["scheduled", "claimed", "dialing", "failed", "nonsense", None])
def test_a_status_the_provider_never_reports_says_nothing(status: str | None) -> None:
    assert call_report(_stored({"type": "status-update", "status": status})) is None


def test_a_status_update_carries_its_status_and_times() -> None:
    message = {
        "type": "status-update",
        "status": "ended",
        "endedReason": "voicemail",
        "call": {"id": "c1", "startedAt": "2026-03-01T12:00:01Z", "endedAt": "bad"},
    }
    report = call_report(_stored(message))
    assert isinstance(report, StatusReport)
    assert report.status == CallStatus.ENDED
    assert report.ending.ended_reason == "voicemail"
    assert report.ending.started_at == datetime(2026, 3, 1, 12, 0, 1, tzinfo=UTC)
    assert report.ending.ended_at is None
    assert report.ending.stamp_now is False, "only the provider's times count"


def test_an_end_of_call_report_keeps_what_it_can_use_and_knows_it_had_details() -> None:
    full = call_report(
        _stored({"type": "end-of-call-report", "cost": 1, "analysis": {"summary": "ok"}})
    )
    assert isinstance(full, EndOfCallReport)
    assert (full.cost, full.analysis, full.has_details) == (1.0, {"summary": "ok"}, True)
    odd = call_report(_stored({"type": "end-of-call-report", "cost": "1", "analysis": []}))
    assert isinstance(odd, EndOfCallReport)
    assert (odd.cost, odd.analysis, odd.has_details) == (None, None, True)
    bare = call_report(_stored({"type": "end-of-call-report"}))
    assert isinstance(bare, EndOfCallReport) and bare.has_details is False


def test_our_call_id_is_read_from_the_metadata_we_sent() -> None:
    call_id = uuid.uuid4()
    overrides = {"metadata": {"orchestratorCallId": str(call_id)}}
    sent = {"type": "status-update", "call": {"assistantOverrides": overrides}}
    assert metadata_call_id(_stored(sent)) == call_id
    assert metadata_call_id(_stored({"type": "status-update", "call": {}})) is None
