"""``make bench``: every benchmark prints one line ``name: value unit``."""

from __future__ import annotations

from ops.bench import campaign_create, pacing_accuracy, tick_cost, webhook_ingest
from ops.bench.common import prepare_bench_database


def main() -> None:
    for bench in (campaign_create.run, tick_cost.run, pacing_accuracy.run, webhook_ingest.run):
        prepare_bench_database()
        print(bench(), flush=True)


if __name__ == "__main__":
    main()
