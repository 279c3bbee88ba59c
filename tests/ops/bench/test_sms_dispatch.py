"""The ``sms_dispatch`` line: the rate against the limit, flagged when short of it or over it."""

from __future__ import annotations

from ops.bench.sms_dispatch import format_line


def test_a_rate_at_the_limit_is_reported_plainly() -> None:
    assert format_line(19.4, 20, 20.0) == "sms_dispatch: 19.4 texts/s (0.97 x vs limit)"


def test_a_rate_short_of_the_limit_or_a_window_over_it_is_flagged() -> None:
    assert "BELOW" in format_line(15.0, 20, 20.0)
    assert "21 in one second" in format_line(19.8, 21, 20.0)
