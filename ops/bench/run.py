"""``make bench``: every benchmark prints one line ``name: value unit``."""

from __future__ import annotations

from ops.bench import (
    campaign_create,
    campaign_events_out,
    contact_listing,
    contacts_export_1m,
    contacts_import_1m,
    dispatch_throughput,
    pacing_accuracy,
    simulator_cost,
    sms_dispatch,
    suppression_import_1m,
    tick_cost,
    webhook_ingest,
)
from ops.bench.common import prepare_bench_database


def main() -> None:
    benches = (
        campaign_create.run,
        tick_cost.run,
        contact_listing.run,
        contacts_export_1m.run,
        pacing_accuracy.run,
        webhook_ingest.run,
        campaign_events_out.run,
        suppression_import_1m.run,
        contacts_import_1m.run,
        sms_dispatch.run,
        simulator_cost.run,
        dispatch_throughput.run,
    )
    for bench in benches:
        prepare_bench_database()
        print(bench(), flush=True)


if __name__ == "__main__":
    main()
