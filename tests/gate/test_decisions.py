"""The gate's one decision: suppressed before capped, capped until when, and what ends a wait."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.gate.caps import Attempt, Cap
from orchestrator.gate.decisions import (
    UNSENT_RECHECK,
    GateDecision,
    Prospect,
    Verdict,
    decide,
    listed_forms,
    recipient_key,
)
from orchestrator.reasons import FREQUENCY_CAP, SUPPRESSED

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
DAY = timedelta(days=1)
NUMBER = "+14155550100"
CAMPAIGN = uuid.uuid4()


def prospect(*, window_end: datetime | None = None, number: str | None = NUMBER) -> Prospect:
    return Prospect(uuid.uuid4(), number, CAMPAIGN, window_end)


def test_a_number_nothing_holds_back_is_clear() -> None:
    decision = decide(prospect(), suppressed=False, caps=[Cap(1, DAY)], attempts=[], now=NOW)
    assert (decision.verdict, decision.until, decision.skip_reason) == (Verdict.CLEAR, None, None)


def test_suppression_decides_before_the_caps_and_always_ends_the_contact() -> None:
    spent = [Attempt(NOW - timedelta(hours=1), None)]
    decision = decide(prospect(), suppressed=True, caps=[Cap(1, DAY)], attempts=spent, now=NOW)
    assert (decision.verdict, decision.skip_reason) == (Verdict.SUPPRESSED, SUPPRESSED)


def test_a_capped_number_waits_for_its_allowance_inside_its_window() -> None:
    spent = [Attempt(NOW - timedelta(hours=1), None)]
    end = NOW + 2 * DAY
    decision = decide(
        prospect(window_end=end), suppressed=False, caps=[Cap(1, DAY)], attempts=spent, now=NOW
    )
    assert (decision.verdict, decision.until) == (Verdict.CAPPED, NOW + timedelta(hours=23))
    assert decision.skip_reason is None
    unbounded = decide(prospect(), suppressed=False, caps=[Cap(1, DAY)], attempts=spent, now=NOW)
    assert unbounded.skip_reason is None


@pytest.mark.parametrize("hours_left", [1, 23])
def test_it_is_skipped_when_its_allowance_frees_at_or_after_its_windows_end(
    hours_left: int,
) -> None:
    spent = [Attempt(NOW - timedelta(hours=1), None)]
    end = NOW + timedelta(hours=hours_left)
    decision = decide(
        prospect(window_end=end), suppressed=False, caps=[Cap(1, DAY)], attempts=spent, now=NOW
    )
    assert decision.skip_reason == FREQUENCY_CAP


def test_the_subjects_own_caps_count_beside_the_orgs() -> None:
    other_campaign = [Attempt(NOW - timedelta(hours=2), uuid.uuid4())]
    mine = [Attempt(NOW - timedelta(hours=3), CAMPAIGN)]
    limited = Prospect(uuid.uuid4(), NUMBER, CAMPAIGN, None, (Cap(1, DAY, per_subject=True),))
    assert decide(limited, suppressed=False, caps=[], attempts=other_campaign, now=NOW).clear
    held = decide(limited, suppressed=False, caps=[], attempts=mine + other_campaign, now=NOW)
    assert held.until == NOW + timedelta(hours=21)


def test_without_a_number_there_is_nothing_to_check() -> None:
    decision = decide(prospect(number=None), suppressed=True, caps=[], attempts=[], now=NOW)
    assert decision == GateDecision(decision.prospect, Verdict.CLEAR)


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("+14155550100", "+14155550100"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("+44 20 7946 0958", "+442079460958"),
        # A trunk zero kept after the country code, and an international prefix: one person.
        ("+4402079460958", "+442079460958"),
        ("0014155550100", "+14155550100"),
        ("415 555 0100", "4155550100"),
        (None, None),
        ("", None),
    ],
)
def test_numbers_are_compared_in_e164_where_they_can_be_read_so(
    written: str | None, key: str | None
) -> None:
    assert recipient_key(written) == key


def test_the_list_is_read_for_the_canonical_form_and_the_form_written() -> None:
    assert listed_forms("+14155550100") == ("+14155550100",)
    assert listed_forms("+4402079460958") == ("+442079460958", "+4402079460958")
    assert listed_forms(None) == ()


def test_attempts_claimed_but_not_sent_defer_and_never_skip() -> None:
    """A skip is final; a claim not sent yet may be withdrawn (a pause, a refusal)."""
    end = NOW + timedelta(hours=2)
    unsent = [Attempt(NOW, uuid.uuid4(), sent=False)]
    decision = decide(
        prospect(window_end=end), suppressed=False, caps=[Cap(1, DAY)], attempts=unsent, now=NOW
    )
    assert (decision.verdict, decision.skip_reason) == (Verdict.CAPPED, None)
    assert decision.until == NOW + UNSENT_RECHECK
    sent_too = [*unsent, Attempt(NOW - timedelta(hours=1), None)]
    final = decide(
        prospect(window_end=end), suppressed=False, caps=[Cap(1, DAY)], attempts=sent_too, now=NOW
    )
    assert final.skip_reason == FREQUENCY_CAP, "a sent attempt alone already caps it to the end"
