"""How far into a digit string a phonenumbers metadata pattern can tell numbers apart."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class _Reach:
    """What part of a digit string a piece of pattern can look at.

    ``width``: the most characters it consumes. ``depth``: how far from its start any test
    stricter than ``\\d`` can reach (0 when it has none). Two digit strings of equal length that
    agree on their first ``depth`` characters get exactly the same match attempt.
    """

    width: int
    depth: int


_NOTHING = _Reach(width=0, depth=0)


def _then(first: _Reach, second: _Reach) -> _Reach:
    later = first.width + second.depth if second.depth else 0
    return _Reach(width=first.width + second.width, depth=max(first.depth, later))


def _either(first: _Reach, second: _Reach) -> _Reach:
    return _Reach(width=max(first.width, second.width), depth=max(first.depth, second.depth))


def pattern_depth(pattern: str) -> int:
    """``depth`` of a whole metadata pattern; ValueError for syntax outside its small dialect."""
    reader = _PatternReader(pattern)
    reach = reader.alternation()
    if reader.peek():
        raise ValueError(f"unexpected {reader.peek()!r} in {pattern!r}")
    return reach.depth


class _PatternReader:
    """Reads phonenumbers' dialect: digits, ``\\d``, digit classes, groups, ``|``, ``?``,
    ``{n}``, ``{n,m}`` and ``$``. Anything else raises ValueError, so the reading never
    guesses."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.position = 0

    def peek(self) -> str:
        return self.pattern[self.position : self.position + 1]

    def take(self) -> str:
        char = self.peek()
        if not char:
            raise ValueError(f"{self.pattern!r} ends early")
        self.position += 1
        return char

    def alternation(self) -> _Reach:
        reach = self.sequence()
        while self.peek() == "|":
            self.take()
            reach = _either(reach, self.sequence())
        return reach

    def sequence(self) -> _Reach:
        reach = _NOTHING
        while self.peek() not in ("", "|", ")"):
            reach = _then(reach, self.repeated())
        return reach

    def repeated(self) -> _Reach:
        piece = self.atom()
        if self.peek() == "?":
            self.take()
            return _either(piece, _NOTHING)
        if self.peek() != "{":
            return piece
        self.take()
        most = self.count()
        if self.peek() == ",":
            self.take()
            most = self.count()
        if self.take() != "}":
            raise ValueError(f"unsupported repeat in {self.pattern!r}")
        # The most repetitions bound both how far it reaches and what follows.
        reach = _NOTHING
        for _ in range(most):
            reach = _then(reach, piece)
        return reach

    def count(self) -> int:
        start = self.position
        while self.peek().isascii() and self.peek().isdigit():
            self.take()
        if start == self.position:
            raise ValueError(f"unsupported repeat in {self.pattern!r}")
        return int(self.pattern[start : self.position])

    def atom(self) -> _Reach:
        char = self.take()
        if char in "0123456789":
            return _Reach(width=1, depth=1)
        if char == "\\" and self.take() == "d":
            return _Reach(width=1, depth=0)
        if char == "[":
            return self.digit_class()
        if char == "(":
            if self.pattern.startswith("?:", self.position):
                self.position += 2
            inner = self.alternation()
            if self.take() != ")":
                raise ValueError(f"unbalanced group in {self.pattern!r}")
            return inner
        if char == "$":
            # Matches at the end only: depends on the length, which numbers sharing a key share.
            return _NOTHING
        raise ValueError(f"unsupported {char!r} in {self.pattern!r}")

    def digit_class(self) -> _Reach:
        members = 0
        while (char := self.take()) != "]":
            if char not in "0123456789-":
                raise ValueError(f"unsupported class in {self.pattern!r}")
            members += 1
        if not members:
            raise ValueError(f"empty class in {self.pattern!r}")
        return _Reach(width=1, depth=1)
