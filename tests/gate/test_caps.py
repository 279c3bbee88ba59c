"""Frequency caps as arithmetic: when a number may be attempted again, under one cap or several."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from orchestrator.gate.caps import Attempt, Cap, attempts_left, frees_at, next_allowance, org_caps
from orchestrator.policy.schemas import PolicyIn

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
CAMPAIGN = uuid.uuid4()
OTHER = uuid.uuid4()


def ago(delta: timedelta, subject: uuid.UUID | None = CAMPAIGN) -> Attempt:
    return Attempt(NOW - delta, subject)


def test_a_number_under_its_cap_may_be_attempted_now() -> None:
    attempts = [ago(2 * HOUR), ago(HOUR)]
    assert next_allowance([Cap(3, DAY)], attempts, subject=CAMPAIGN, now=NOW) is None


def test_at_its_cap_it_frees_when_the_oldest_attempt_that_counts_leaves_the_period() -> None:
    attempts = [ago(5 * HOUR), ago(2 * HOUR), ago(HOUR), ago(30 * HOUR)]
    # Three inside the day: the third most recent (5 h ago) leaves it 19 h from now.
    assert next_allowance([Cap(3, DAY)], attempts, subject=CAMPAIGN, now=NOW) == NOW + 19 * HOUR


def test_an_attempt_stops_counting_exactly_one_period_after_it_was_sent() -> None:
    cap = Cap(1, DAY)
    assert frees_at(cap, [ago(DAY)], subject=None, now=NOW) is None
    just_inside = Attempt(NOW - DAY + timedelta(microseconds=1), None)
    assert frees_at(cap, [just_inside], subject=None, now=NOW) == NOW + timedelta(microseconds=1)


def test_several_caps_free_the_number_at_the_latest_of_their_instants() -> None:
    caps = [Cap(3, DAY), Cap(7, 7 * DAY)]
    # Seven this week (the oldest 6 days ago), three of them today (the oldest 4 hours ago).
    attempts = [
        ago(6 * DAY),
        ago(5 * DAY),
        ago(4 * DAY),
        ago(3 * DAY),
        ago(4 * HOUR),
        ago(2 * HOUR),
        ago(HOUR),
    ]
    assert frees_at(caps[0], attempts, subject=None, now=NOW) == NOW + 20 * HOUR
    assert frees_at(caps[1], attempts, subject=None, now=NOW) == NOW + DAY
    assert next_allowance(caps, attempts, subject=None, now=NOW) == NOW + DAY
    # One week-old attempt fewer: only the daily cap holds it.
    assert next_allowance(caps, attempts[1:], subject=None, now=NOW) == NOW + 20 * HOUR


def test_a_cap_per_subject_counts_only_that_subjects_attempts() -> None:
    per_campaign = Cap(2, DAY, per_subject=True)
    attempts = [ago(3 * HOUR, OTHER), ago(2 * HOUR, CAMPAIGN), ago(HOUR, OTHER)]
    assert next_allowance([per_campaign], attempts, subject=CAMPAIGN, now=NOW) is None
    assert next_allowance([per_campaign], attempts, subject=OTHER, now=NOW) == NOW + 21 * HOUR
    # The org's direct calls are one subject (None) together.
    direct = [ago(2 * HOUR, None), ago(HOUR, None)]
    assert next_allowance([per_campaign], direct, subject=None, now=NOW) == NOW + 22 * HOUR
    assert next_allowance([per_campaign], direct, subject=CAMPAIGN, now=NOW) is None


def test_org_and_subject_caps_together() -> None:
    caps = [Cap(4, DAY), Cap(1, DAY, per_subject=True)]
    attempts = [ago(5 * HOUR, OTHER), ago(HOUR, CAMPAIGN)]
    assert next_allowance(caps, attempts, subject=CAMPAIGN, now=NOW) == NOW + 23 * HOUR
    assert next_allowance(caps, attempts, subject=OTHER, now=NOW) == NOW + 19 * HOUR
    assert next_allowance(caps, attempts, subject=uuid.uuid4(), now=NOW) is None


def test_an_attempt_about_to_be_made_counts_from_now() -> None:
    imminent = [Attempt(NOW, OTHER)]
    assert next_allowance([Cap(1, DAY)], imminent, subject=CAMPAIGN, now=NOW) == NOW + DAY


def test_attempts_left_is_the_tightest_cap_over_every_subject() -> None:
    caps = [Cap(3, DAY), Cap(5, 7 * DAY), Cap(1, DAY, per_subject=True)]
    attempts = [ago(3 * DAY), ago(2 * DAY), ago(HOUR)]
    assert attempts_left(caps, attempts, now=NOW) == 2  # min(3 - 1, 5 - 3)
    assert attempts_left(caps, [*attempts, ago(HOUR), ago(HOUR), ago(HOUR)], now=NOW) == 0
    assert attempts_left([Cap(1, DAY, per_subject=True)], attempts, now=NOW) is None
    assert attempts_left([], attempts, now=NOW) is None


def test_the_policys_caps_are_caps_over_every_subject() -> None:
    policy = PolicyIn.model_validate(
        {"frequencyCaps": [{"maxAttempts": 3, "periodSeconds": 86400}]}
    )
    assert org_caps(policy) == (Cap(3, DAY),)
    assert org_caps(PolicyIn()) == ()
