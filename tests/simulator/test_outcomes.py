from __future__ import annotations

from collections import Counter

import pytest

from orchestrator.simulator.outcomes import (
    ANSWERED_REASONS,
    CONVERSATION_REASONS,
    FAILED_TO_CONNECT,
    NO_ANSWER,
    OUTCOME_MIX,
    PROFILES,
    VOICEMAIL,
    decide_outcome,
    get_profile,
    summarize,
)

SAMPLE = 20_000


def numbers(count: int) -> list[str]:
    return [f"+1415{i:07d}" for i in range(count)]


def test_same_input_gives_same_outcome() -> None:
    for number in numbers(200):
        first = decide_outcome(number=number, attempt=2, seed=7, profile="realistic")
        again = decide_outcome(number=number, attempt=2, seed=7, profile="realistic")
        assert first == again


def test_seed_and_attempt_change_outcomes() -> None:
    sample = numbers(500)
    by_seed = [decide_outcome(number=n, attempt=1, seed=1) for n in sample]
    other_seed = [decide_outcome(number=n, attempt=1, seed=2) for n in sample]
    second_attempt = [decide_outcome(number=n, attempt=2, seed=1) for n in sample]
    assert sum(a != b for a, b in zip(by_seed, other_seed, strict=True)) > 400
    assert sum(a != b for a, b in zip(by_seed, second_attempt, strict=True)) > 400
    reasons = [o.ended_reason for o in by_seed]
    assert reasons != [o.ended_reason for o in other_seed]


def test_mix_matches_documentation() -> None:
    counts = Counter(
        decide_outcome(number=n, attempt=1, seed=0).ended_reason for n in numbers(SAMPLE)
    )
    assert set(counts) == {reason for reason, _ in OUTCOME_MIX}
    for reason, share in OUTCOME_MIX:
        assert abs(counts[reason] / SAMPLE - share) <= 0.02, reason
    assert sum(share for _, share in OUTCOME_MIX) == pytest.approx(1.0)


@pytest.mark.parametrize("profile_name", sorted(PROFILES))
def test_durations_stay_within_profile(profile_name: str) -> None:
    profile = get_profile(profile_name)
    for number in numbers(3_000):
        outcome = decide_outcome(number=number, attempt=1, seed=3, profile=profile_name)
        ring = profile.no_answer if outcome.ended_reason == NO_ANSWER else profile.ring
        assert ring[0] <= outcome.ring_seconds < ring[1]
        if outcome.ended_reason in CONVERSATION_REASONS:
            assert profile.talk[0] <= outcome.talk_seconds < profile.talk[1]
        elif outcome.ended_reason == VOICEMAIL:
            assert profile.voicemail[0] <= outcome.talk_seconds < profile.voicemail[1]
        else:
            assert outcome.talk_seconds == 0.0


def test_outcome_flags_and_cost() -> None:
    outcomes = [decide_outcome(number=n, attempt=1, seed=5) for n in numbers(2_000)]
    for outcome in outcomes:
        assert outcome.answered == (outcome.ended_reason in ANSWERED_REASONS)
        assert outcome.rings == (outcome.ended_reason != FAILED_TO_CONNECT)
        assert (outcome.cost > 0) == outcome.answered
        assert not outcome.success or outcome.ended_reason in CONVERSATION_REASONS
        analysis, transcript = summarize(outcome)
        assert analysis["successEvaluation"] in {"true", "false"}
        assert bool(transcript) == outcome.answered
    conversations = [o for o in outcomes if o.ended_reason in CONVERSATION_REASONS]
    success_rate = sum(o.success for o in conversations) / len(conversations)
    assert 0.5 < success_rate < 0.7


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="1-based"):
        decide_outcome(number="+15550000000", attempt=0, seed=0)
    with pytest.raises(ValueError, match="unknown simulator profile"):
        decide_outcome(number="+15550000000", attempt=1, seed=0, profile="warp")
