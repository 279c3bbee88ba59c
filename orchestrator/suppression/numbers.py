"""Numbers as the suppression list keeps them: E.164, the form every number it is compared
with has (campaign customers and direct calls are checked with ``is_valid_e164``)."""

from __future__ import annotations

import re

import phonenumbers

from orchestrator.wire import is_valid_e164

# What people write between digits: spaces, dashes, dots, parentheses.
_SEPARATORS = re.compile(r"[\s\-.()]")
_DIGITS = re.compile(r"^\+?\d+$")
# Longer than any phone number however it is written: not worth parsing.
MAX_WRITTEN_LENGTH = 64
# Where the import's database check stops: ``+``, a country code, 7 to 15 digits in all.
E164_SHAPE_SQL = r"^\+[1-9][0-9]{6,14}$"


def normalise_number(written: str) -> str | None:
    """``written`` in E.164, or None when it is no valid number of any country.

    One already in E.164 is kept as it is, as campaign customers are. Otherwise separators
    go, a leading ``00`` stands for ``+``, and phonenumbers must know the number; a number
    without its country code names no country, so it is refused rather than guessed.
    """
    if is_valid_e164(written):
        return written
    if len(written) > MAX_WRITTEN_LENGTH:
        return None
    compact = _SEPARATORS.sub("", written)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not compact.startswith("+") or not _DIGITS.match(compact):
        return None
    try:
        parsed = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
