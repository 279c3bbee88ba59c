"""The lookup cache: fresh for its time, one lookup per key at a time, errors never kept."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from orchestrator.clock import ManualClock
from orchestrator.phone_numbers.cache import LookupCache


class Lookup:
    """Counts its calls; each answers the next number, or raises when told."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls = 0
        self.error = error
        self.release = threading.Event()
        self.release.set()

    def __call__(self) -> int:
        self.calls += 1
        self.release.wait(5)
        if self.error is not None:
            raise self.error
        return self.calls


def test_a_value_is_kept_while_fresh(clock: ManualClock) -> None:
    cache, lookup = LookupCache(ttl_seconds=5), Lookup()
    assert [cache.get("k", lookup) for _ in range(3)] == [1, 1, 1]
    clock.advance(4.999)
    assert cache.get("k", lookup) == 1
    clock.advance(0.001)
    assert cache.get("k", lookup) == 2
    assert cache.get("other", lookup) == 3


def test_a_clock_set_back_makes_a_value_stale(clock: ManualClock) -> None:
    cache, lookup = LookupCache(ttl_seconds=5), Lookup()
    cache.get("k", lookup)
    clock.advance(-60)
    assert cache.get("k", lookup) == 2


def test_nothing_is_kept_with_no_time_to_keep_it(clock: ManualClock) -> None:
    cache, lookup = LookupCache(ttl_seconds=0), Lookup()
    assert [cache.get("k", lookup) for _ in range(3)] == [1, 2, 3]


def test_errors_are_raised_and_not_kept(clock: ManualClock) -> None:
    lookup = Lookup(error=RuntimeError("provider down"))
    cache = LookupCache(ttl_seconds=5)
    for _ in range(2):
        with pytest.raises(RuntimeError, match="provider down"):
            cache.get("k", lookup)
    assert lookup.calls == 2
    lookup.error = None
    assert cache.get("k", lookup) == 3


def test_the_least_recently_used_goes_first(clock: ManualClock) -> None:
    cache, lookup = LookupCache(ttl_seconds=5, max_entries=2), Lookup()
    cache.get("a", lookup)
    cache.get("b", lookup)
    cache.get("a", lookup)  # used again: b is now the oldest
    cache.get("c", lookup)
    assert (cache.get("a", lookup), cache.get("b", lookup)) == (1, 4)


@pytest.mark.parametrize("error", [None, RuntimeError("provider down")])
def test_requests_during_a_lookup_share_it(clock: ManualClock, error: Exception | None) -> None:
    cache, lookup = LookupCache(ttl_seconds=5), Lookup(error)
    lookup.release.clear()

    def ask() -> int | str:
        try:
            return cache.get("k", lookup)
        except RuntimeError as raised:
            return str(raised)

    with ThreadPoolExecutor(max_workers=8) as pool:
        waiting = [pool.submit(ask) for _ in range(8)]
        threading.Event().wait(0.2)  # every request is in: one looks up, the rest wait on it
        lookup.release.set()
        answers = {future.result(timeout=5) for future in waiting}
    assert lookup.calls == 1
    assert answers == ({1} if error is None else {"provider down"})
