"""Numbers in canonical E.164, however they are written."""

from __future__ import annotations

import pytest

from orchestrator.suppression.numbers import canonical_number, lookup_forms


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("+14155550100", "+14155550100"),
        ("+4402079460958", "+442079460958"),
        ("0044 (0)20 7946-0958", "+442079460958"),
        ("+1.415.555.0100", "+14155550100"),
        ("+10000000000", None),
        ("4155550100", None),
        ("+1 415 555 0100 ext 2", None),
        ("+" + "1" * 70, None),
        ("", None),
    ],
)
def test_a_number_is_canonical_or_none(written: str, canonical: str | None) -> None:
    assert canonical_number(written) == canonical


def test_a_number_is_looked_up_canonical_first_then_as_written_when_shaped_like_e164() -> None:
    assert lookup_forms("+4402079460958") == ["+442079460958", "+4402079460958"]
    assert lookup_forms("+44 020 7946 0958") == ["+442079460958"]
    assert lookup_forms("+14155550100") == ["+14155550100"]
    assert lookup_forms("+10000000000") == ["+10000000000"]
    assert lookup_forms("nope") == []
