"""The numbers ``suppression_import_1m`` imports: valid, distinct, scattered."""

from __future__ import annotations

from itertools import islice

from ops.bench.suppression_import_1m import CHUNK, NUMBERS, bench_number, shuffled_numbers
from orchestrator.wire import is_valid_e164


def test_every_kind_of_bench_number_is_valid() -> None:
    edges = [0, 1, 19, 20, 199_999, 200_000, NUMBERS - 1]
    assert all(is_valid_e164(bench_number(i)) for i in [*edges, *range(0, NUMBERS, 9973)])
    assert len({bench_number(i) for i in range(NUMBERS)}) == NUMBERS


def test_the_file_order_is_scattered() -> None:
    first = next(shuffled_numbers())
    assert len(first) == CHUNK and first != sorted(first)
    seen = {n for chunk in islice(shuffled_numbers(), 5) for n in chunk}
    assert len(seen) == 5 * CHUNK
