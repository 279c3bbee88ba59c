"""The calls in ``GET /call``'s order, so that a page costs about its own length.

Calls are kept sorted by ``(createdAt, seq)``, all of them and each caller number's apart. A
page picks the smallest of those lists the query allows (one call for ``id``, the number's for
``phoneNumberId``), narrows it to the ``createdAt`` bounds by bisection, then walks it from the
end the sort order starts at, keeping the calls every other filter matches, until ``limit``.
New calls almost always come last (``createdAt`` follows the wall clock), so adding one is an
append; a clock stepped back costs an insertion.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from datetime import datetime

from orchestrator.simulator.records import CallQuery, CallRecord


def _order(record: CallRecord) -> tuple[datetime, int]:
    return record.created_at, record.seq


def _created(record: CallRecord) -> datetime:
    return record.created_at


class CallIndex:
    def __init__(self) -> None:
        self._all: list[CallRecord] = []
        self._by_phone: dict[str, list[CallRecord]] = {}

    def add(self, record: CallRecord) -> None:
        for calls in (self._all, self._by_phone.setdefault(record.phone_number_id, [])):
            if not calls or _order(calls[-1]) < _order(record):
                calls.append(record)
            else:
                insort(calls, record, key=_order)

    def remove(self, record: CallRecord) -> None:
        phone = record.phone_number_id
        for calls in (self._all, self._by_phone.get(phone, [])):
            at = bisect_left(calls, _order(record), key=_order)
            if at < len(calls) and calls[at] is record:
                del calls[at]
        if not self._by_phone.get(phone, True):
            del self._by_phone[phone]

    def page(self, query: CallQuery, by_id: dict[str, CallRecord]) -> list[CallRecord]:
        """The calls ``GET /call`` answers for ``query``, in its order."""
        if query.id is not None:
            record = by_id.get(query.id)
            calls = [] if record is None else [record]
        elif query.phone_number_id is not None:
            calls = self._by_phone.get(query.phone_number_id, [])
        else:
            calls = self._all
        low, high = _bounds(calls, query)
        found: list[CallRecord] = []
        if query.limit <= 0:
            return found
        positions = range(high - 1, low - 1, -1) if query.newest_first else range(low, high)
        for position in positions:
            if query.matches(record := calls[position]):
                found.append(record)
                if len(found) == query.limit:
                    break
        return found


def _bounds(calls: list[CallRecord], query: CallQuery) -> tuple[int, int]:
    """The slice of ``calls`` (sorted by ``createdAt``) inside the query's ``createdAt`` bounds."""
    low, high = 0, len(calls)
    if query.created_at_gt is not None:
        low = max(low, bisect_right(calls, query.created_at_gt, key=_created))
    if query.created_at_ge is not None:
        low = max(low, bisect_left(calls, query.created_at_ge, key=_created))
    if query.created_at_lt is not None:
        high = min(high, bisect_left(calls, query.created_at_lt, key=_created))
    if query.created_at_le is not None:
        high = min(high, bisect_right(calls, query.created_at_le, key=_created))
    return low, high
