"""A small in-process cache of provider answers: fresh for a few seconds, one lookup at a time.

Each key is looked up by one thread at a time: requests that arrive while a lookup runs wait
for it and share its answer, or its error, so a burst of requests (or a provider that hangs)
costs one provider request per key, not one per request. Errors are not kept: the next request
after a failure asks again. Entries are bounded in number, the least recently used dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from orchestrator.clock import utcnow

Value = TypeVar("Value")

DEFAULT_MAX_ENTRIES = 1024


@dataclass(frozen=True, slots=True)
class _Entry:
    value: Any
    stored_at: datetime


class LookupCache:
    def __init__(self, *, ttl_seconds: float, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lookups: dict[Hashable, Future[Any]] = {}

    def get(self, key: Hashable, lookup: Callable[[], Value]) -> Value:
        """The value kept for ``key`` while fresh; else what ``lookup`` answers (or raises)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self._fresh(entry):
                self._entries.move_to_end(key)
                value: Value = entry.value
                return value
            running = self._lookups.get(key)
            if running is None:
                running = self._lookups[key] = Future()
                leading = True
            else:
                leading = False
        if not leading:
            shared: Value = running.result()
            return shared
        return self._look_up(key, lookup, running)

    def _look_up(self, key: Hashable, lookup: Callable[[], Value], running: Future[Any]) -> Value:
        try:
            value = lookup()
        except BaseException as error:
            with self._lock:
                del self._lookups[key]
            running.set_exception(error)
            raise
        with self._lock:
            del self._lookups[key]
            if self.ttl_seconds > 0:
                self._entries[key] = _Entry(value, utcnow())
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        running.set_result(value)
        return value

    def _fresh(self, entry: _Entry) -> bool:
        # A clock set back makes an entry stale rather than fresh for longer.
        age = (utcnow() - entry.stored_at).total_seconds()
        return 0 <= age < self.ttl_seconds

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
