"""The shipped rule table: every rule says where it comes from, and reads as intended."""

from __future__ import annotations

import tomllib
from importlib.resources import files

import pytest

from orchestrator.scheduling.calling_hours.conditions import Span
from orchestrator.scheduling.calling_hours.schemas import DAYS
from orchestrator.scheduling.calling_hours.state_rules import RULES_FILE, SubjectCap, us_rules
from orchestrator.scheduling.calling_hours.us_states import STATE_CODES

EVERY_DAY = frozenset(DAYS)
DAILY_CAP = (SubjectCap(max_attempts=3, period_seconds=86_400),)


def _raw() -> dict[str, object]:
    text = (files("orchestrator.scheduling.calling_hours") / RULES_FILE).read_text("utf-8")
    return tomllib.loads(text)


def test_the_floor_is_eight_to_nine_every_day() -> None:
    assert us_rules().floor == (Span(EVERY_DAY, 8 * 60, 21 * 60),)


def test_the_table_covers_the_states_with_stricter_rules() -> None:
    assert {"FL", "OK", "MD", "TX", "WA", "AL", "LA", "MS", "RI", "UT", "PA", "CT", "MA"} <= set(
        us_rules().states
    )
    assert set(us_rules().states) <= STATE_CODES


def test_every_rule_names_its_law_and_sources() -> None:
    for code, state in us_rules().states.items():
        assert state.citation.strip(), code
        assert state.sources, code
        assert all(url.startswith(("https://", "http://")) for url in state.sources), code
        if state.holidays is not None:
            assert state.holidays.rules, code
    raw = _raw()
    for code, entry in raw["states"].items():  # type: ignore[attr-defined]
        assert entry["notes"].strip(), code
        if "holidays" in entry:
            assert entry["holidays"]["citation"].strip(), code
            assert entry["holidays"]["sources"], code


@pytest.mark.parametrize(
    ("state", "spans"),
    [
        ("FL", (Span(EVERY_DAY, 480, 1200),)),
        ("WA", (Span(EVERY_DAY, 480, 1200),)),
        ("CT", (Span(EVERY_DAY, 540, 1200),)),
        (
            "TX",
            (
                Span(EVERY_DAY - {"sun"}, 540, 1260),
                Span(frozenset({"sun"}), 720, 1260),
            ),
        ),
        ("AL", (Span(EVERY_DAY - {"sun"}, 480, 1200),)),
        (
            "RI",
            (
                Span(EVERY_DAY - {"sat", "sun"}, 540, 1080),
                Span(frozenset({"sat"}), 600, 1020),
            ),
        ),
    ],
)
def test_state_windows(state: str, spans: tuple[Span, ...]) -> None:
    assert us_rules().states[state].spans == spans


def test_the_three_a_day_states_carry_their_cap() -> None:
    states = us_rules().states
    assert {code for code, state in states.items() if state.subject_caps} == {"FL", "OK", "MD"}
    assert all(states[code].subject_caps == DAILY_CAP for code in ("FL", "OK", "MD"))


def test_the_table_says_it_is_not_legal_advice() -> None:
    text = (files("orchestrator.scheduling.calling_hours") / RULES_FILE).read_text("utf-8")
    assert "NOT LEGAL ADVICE" in text
    assert "counsel" in text
