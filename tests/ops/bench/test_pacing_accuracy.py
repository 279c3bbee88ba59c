"""The ``pacing_accuracy`` figures over synthetic creation times."""

from __future__ import annotations

import pytest

from ops.bench.pacing_accuracy import (
    PacingFigures,
    created_times,
    format_line,
    max_in_window,
    measure_pacing,
    planned_calls,
)

LIMIT = 5.0


def evenly(count: int, rate: float, start: float = 0.0) -> list[float]:
    return [start + index / rate for index in range(count)]


def test_evenly_spaced_at_the_limit_is_exact() -> None:
    figures = measure_pacing({"a": evenly(50, LIMIT)}, limit_per_second=LIMIT)
    assert figures.max_window_calls == 5
    assert figures.max_window_ratio == pytest.approx(1.0)
    assert figures.achieved_ratio == pytest.approx(1.0)
    assert figures.calls == 50


def test_bursts_exceed_the_limit() -> None:
    # Ten calls within a few milliseconds, once a second: right on average, bursty in a window.
    times = [second + burst * 0.001 for second in range(5) for burst in range(10)]
    figures = measure_pacing({"a": times}, limit_per_second=LIMIT)
    assert figures.max_window_calls == 10
    assert figures.max_window_ratio == pytest.approx(2.0)
    assert figures.achieved_ratio > 1.0


def test_two_numbers_take_the_worst_window_and_average_the_rates() -> None:
    created = {"a": evenly(30, LIMIT), "b": evenly(30, 2 * LIMIT, start=100.0)}
    figures = measure_pacing(created, limit_per_second=LIMIT)
    assert figures.max_window_ratio == pytest.approx(2.0)
    assert figures.achieved_ratio == pytest.approx(1.5)
    assert figures.calls == 60


def test_numbers_are_measured_apart() -> None:
    # Interleaved at the limit each: together 2x, but each number alone is exact.
    created = {"a": evenly(20, LIMIT), "b": evenly(20, LIMIT, start=0.1)}
    assert measure_pacing(created, limit_per_second=LIMIT).max_window_ratio == pytest.approx(1.0)


def test_exactly_one_second_apart_falls_in_separate_windows() -> None:
    assert max_in_window([0.0, 1.0, 2.0, 3.0]) == 1
    assert max_in_window([0.0, 0.999, 1.998]) == 2
    # Float rounding (1.4 - 0.4 < 1) must not pull a call into the next window.
    assert max_in_window([0.4, 1.4]) == 1
    assert max_in_window([1_700_000_000.123, 1_700_000_001.123]) == 1


def test_order_of_the_times_does_not_matter() -> None:
    assert max_in_window([2.5, 0.1, 2.0, 0.2, 2.9]) == 3


def test_no_calls_or_one_call() -> None:
    assert measure_pacing({}, limit_per_second=LIMIT) == PacingFigures(0, 0, 0.0, 0.0)
    single = measure_pacing({"a": [3.0]}, limit_per_second=LIMIT)
    assert single.max_window_ratio == pytest.approx(1 / LIMIT)
    assert single.achieved_ratio == 0.0


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        measure_pacing({"a": [0.0]}, limit_per_second=0)


def test_created_times_from_simulator_calls() -> None:
    calls = [
        {"id": "1", "phoneNumberId": "a", "createdAt": "2030-01-01T00:00:00.000Z"},
        {"id": "2", "phoneNumberId": "b", "createdAt": "2030-01-01T00:00:00.250Z"},
        {"id": "3", "phoneNumberId": "a", "createdAt": "2030-01-01T00:00:01.000Z"},
    ]
    created = created_times(calls)
    assert set(created) == {"a", "b"}
    first, second = created["a"]
    assert second - first == pytest.approx(1.0)
    assert created["b"][0] - first == pytest.approx(0.25)
    assert max_in_window(created["a"]) == 1


def test_planned_calls_alternate_numbers_with_distinct_customers() -> None:
    calls = planned_calls(["a", "b"], 6)
    assert [phone for phone, _ in calls] == ["a", "b", "a", "b", "a", "b"]
    assert len({customer for _, customer in calls}) == 6


def test_line_format() -> None:
    ours = PacingFigures(calls=300, max_window_calls=5, max_window_ratio=1.0, achieved_ratio=0.98)
    baseline = PacingFigures(
        calls=300, max_window_calls=10, max_window_ratio=2.0, achieved_ratio=1.9
    )
    assert format_line(ours, baseline) == (
        "pacing_accuracy: 1.00 x max-window, 0.98 x achieved "
        "(0.50 x vs baseline celery rate_limit at 2.00 x max-window, 1.90 x achieved)"
    )
