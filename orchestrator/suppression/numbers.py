"""Numbers as the suppression list keeps them: canonical E.164, phonenumbers' own form of a
number (``+4402079460958`` is kept as ``+442079460958``), so that however a number was
written when it was listed, it is found by its canonical form.

One exception: the CSV import stores the numbers already shaped like E.164 as they are
written, unparsed, at COPY's speed. Whoever looks a number up therefore tries both its
canonical form and, when it is shaped like E.164, the form it is written in.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from orchestrator.wire import E164_SHAPE

# What people write between digits: spaces, dashes, dots, parentheses.
_SEPARATORS = re.compile(r"[\s\-.()]")
_DIGITS = re.compile(r"^\+?\d+$")
# Longer than any phone number however it is written: not worth parsing.
MAX_WRITTEN_LENGTH = 64
# Where the import's database check stops: ``+``, a country code, 7 to 15 digits in all.
E164_SHAPE_SQL = r"^\+[1-9][0-9]{6,14}$"


def _compact(written: str) -> str | None:
    """``written`` as ``+`` and digits, or None when it cannot be one."""
    if E164_SHAPE.match(written):
        return written
    if len(written) > MAX_WRITTEN_LENGTH:
        return None
    compact = _SEPARATORS.sub("", written)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not compact.startswith("+") or not _DIGITS.match(compact):
        return None
    return compact


def canonical_number(raw: str) -> str | None:
    """``raw`` in canonical E.164, or None when it is no valid number of any country (see
    ``_canonical_number``). Remembered for strings a number could be: one is asked about
    several times on its way to the provider (the claim, the send, its webhooks), and a parse
    costs more than the rest of a check."""
    if len(raw) > CACHED_LENGTH:
        return _canonical_number.__wrapped__(raw)
    return _canonical_number(raw)


# Longer input (anything a request may hold) is parsed every time, never kept.
CACHED_LENGTH = 64


@lru_cache(maxsize=65_536)
def _canonical_number(raw: str) -> str | None:
    """``raw`` in canonical E.164, or None when it is no valid number of any country.

    Separators go and a leading ``00`` stands for ``+``; a number without its country code
    names no country, so it is refused rather than guessed. One parse, whatever the input.
    """
    compact = _compact(raw)
    if compact is None:
        return None
    try:
        parsed = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def lookup_forms(written: str) -> list[str]:
    """The forms ``written`` may be listed under: its canonical form first, then the form
    it is written in when that is shaped like E.164 (as the import stores it, and as an
    entry the API's validation would refuse, ``+10000000000``, can only be found)."""
    forms = []
    canonical = canonical_number(written)
    if canonical is not None:
        forms.append(canonical)
    if E164_SHAPE.match(written) and written != canonical:
        forms.append(written)
    return forms
