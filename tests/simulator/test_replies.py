"""The simulated customers' replies: the documented mix, fixed by (number, seed)."""

from __future__ import annotations

from collections import Counter

import pytest

from orchestrator.simulator.replies import (
    QUESTIONS,
    REPLY_DELAYS,
    REPLY_MIX,
    ReplyKind,
    decide_reply,
)

NUMBERS = [f"+1555{i:07d}" for i in range(20_000)]


@pytest.mark.parametrize("seed", [0, 7])
def test_the_mix_is_the_documented_one(seed: int) -> None:
    kinds = Counter(decide_reply(number=number, seed=seed).kind for number in NUMBERS)
    for kind, share in REPLY_MIX:
        assert abs(kinds[kind] / len(NUMBERS) - share) < 0.02, (kind, kinds)


def test_the_same_number_and_seed_always_give_the_same_reply() -> None:
    for number in NUMBERS[:500]:
        assert decide_reply(number=number, seed=3) == decide_reply(number=number, seed=3)
    differ = [
        number
        for number in NUMBERS[:500]
        if decide_reply(number=number, seed=3) != decide_reply(number=number, seed=4)
    ]
    assert len(differ) > 400  # the seed changes the draw


def test_each_kind_says_what_it_should() -> None:
    replies = [decide_reply(number=number, seed=0) for number in NUMBERS[:5000]]
    stops = {r.text for r in replies if r.kind is ReplyKind.STOP}
    assert stops == {"STOP", "stop", "Stop", " stop "}
    assert {r.text for r in replies if r.kind is ReplyKind.YES} == {"YES", "yes", "Yes"}
    questions = [r for r in replies if r.kind is ReplyKind.QUESTION]
    assert {(r.text, r.answer) for r in questions} == set(QUESTIONS)
    assert all(r.text is None and r.answer is None for r in replies if r.kind is ReplyKind.SILENCE)
    assert all(r.answer is None for r in replies if r.kind is not ReplyKind.QUESTION)


@pytest.mark.parametrize("profile", sorted(REPLY_DELAYS))
def test_delays_follow_the_profile(profile: str) -> None:
    low, high = REPLY_DELAYS[profile]
    for number in NUMBERS[:300]:
        reply = decide_reply(number=number, seed=0, profile=profile)
        assert low <= reply.delay_seconds < high
        if reply.kind is ReplyKind.QUESTION:
            assert low <= reply.answer_delay_seconds < high
    assert REPLY_DELAYS["instant"][1] <= 0.05 and REPLY_DELAYS["fast"][1] <= 0.5
