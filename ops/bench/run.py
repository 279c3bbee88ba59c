"""``make bench``: every benchmark prints one line ``name: value unit``."""

from __future__ import annotations

from ops.bench import campaign_create
from ops.bench.common import prepare_bench_database


def main() -> None:
    prepare_bench_database()
    for bench in (campaign_create.run,):
        print(bench(), flush=True)


if __name__ == "__main__":
    main()
