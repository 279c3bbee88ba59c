"""How far a phonenumbers metadata pattern can look: its depth, or a refusal."""

from __future__ import annotations

import pytest

from orchestrator.scheduling.calling_hours.pattern_depth import pattern_depth


@pytest.mark.parametrize(
    ("pattern", "depth"),
    [
        (r"\d{7}", 0),
        (r"2\d{6}", 1),
        (r"[2-9]\d{6}", 1),
        (r"\d{2}[1-9]\d{4}", 3),
        (r"(?:1\d|2)3\d{5}", 3),
        (r"1{3}\d", 3),
        (r"\d{1,3}5", 4),
        (r"(?:12)?3", 3),
        (r"([2-9]\d{6})$|1", 1),
    ],
)
def test_pattern_depth_bounds_what_a_pattern_can_tell_apart(pattern: str, depth: int) -> None:
    assert pattern_depth(pattern) == depth


@pytest.mark.parametrize("pattern", [r"\D", "[^5]", r"\d+", r"\d{2,}", "1.", "(12", "1)", "[]"])
def test_pattern_depth_refuses_syntax_it_does_not_know(pattern: str) -> None:
    with pytest.raises(ValueError, match=r"unsupported|unexpected|ends early|unbalanced|empty"):
        pattern_depth(pattern)
