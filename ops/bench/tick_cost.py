"""``tick_cost_1m_vs_10k``: one scheduler dispatch with 1,000,000 pending contacts vs 10,000.

Each campaign belongs to its own org, with contacts spread over two caller numbers and three
calling-hours zones (one of them closed). A dispatch claims a full batch and is rolled back,
so every measured run starts from the same state; the figure is the ratio of the medians.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from ops.bench.common import percentile
from orchestrator.campaigns import counter_repository
from orchestrator.campaigns.counters import counter_deltas
from orchestrator.clock import ManualClock, use_clock
from orchestrator.contacts import repository as contacts_repo
from orchestrator.contacts.service import NewContact
from orchestrator.db import get_engine, session_scope
from orchestrator.models import Campaign, CampaignStatus, ContactStatus
from orchestrator.orgs.service import create_org
from orchestrator.phone_numbers.repository import upsert_pacing
from orchestrator.scheduling.service import dispatch_org

RUNS = 15
BATCH = 50
CALLERS = ("tick-a", "tick-b")
ZONES = ("America/New_York", "Europe/London", "Asia/Tokyo")
# Monday 2026-03-02 15:00 UTC: New York and London are inside 09:00-20:00, Tokyo is not.
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
HOURS = {
    "windows": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "20:00"}],
    "timezone": "contact",
    "fallbackTimezone": "UTC",
}


def _contacts(start: int, count: int) -> list[NewContact]:
    return [
        NewContact(
            position=i,
            phone_number_id=CALLERS[i % 2],
            number=f"+1415{i:07d}",
            dedupe_key=f"tel:{i}",
            customer={"number": f"+1415{i:07d}"},
            zone_key=ZONES[i % 3],
        )
        for i in range(start, start + count)
    ]


def seed_org(contacts: int) -> uuid.UUID:
    """An org with one in-progress campaign of ``contacts`` pending contacts."""
    with session_scope() as session:
        org = create_org(session, name=f"tick-{contacts}", concurrency_limit=BATCH)
        for caller in CALLERS:
            upsert_pacing(
                session,
                org_id=org.org_id,
                provider_id=caller,
                calls_per_second=1000,
                max_concurrency=None,
            )
        campaign = Campaign(
            id=uuid.uuid4(),
            org_id=org.org_id,
            name=f"tick {contacts}",
            status=CampaignStatus.IN_PROGRESS,
            assistant_id="assistant-bench",
            uses_dial_plan=True,
            max_concurrency=BATCH,
            extensions={"callingHours": HOURS},
            caller_number_ids=list(CALLERS),
            contact_zone_keys=list(ZONES),
            contacts_total=contacts,
            created_at=NOW,
        )
        session.add(campaign)
        session.flush()
        counter_repository.add_counter_shards(
            session,
            campaign_id=campaign.id,
            initial=counter_deltas(contact_after=ContactStatus.PENDING) * contacts,
        )
        for start in range(0, contacts, 100_000):
            chunk = _contacts(start, min(100_000, contacts - start))
            contacts_repo.copy_contacts(
                session, campaign_id=campaign.id, org_id=org.org_id, contacts=chunk
            )
        return org.org_id


def median_dispatch_seconds(org_id: uuid.UUID) -> float:
    timings = []
    for _ in range(RUNS):
        with get_engine().connect() as connection:
            transaction = connection.begin()
            session = Session(bind=connection)
            started = time.perf_counter()
            result = dispatch_org(session, org_id=org_id, now=NOW, batch_limit=500)
            timings.append(time.perf_counter() - started)
            assert len(result.call_ids) == BATCH, len(result.call_ids)
            session.close()
            transaction.rollback()
    return percentile(timings, 0.5)


def run() -> str:
    with use_clock(ManualClock(NOW)):  # contacts become due at NOW
        small = seed_org(10_000)
        large = seed_org(1_000_000)
    with get_engine().connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE contacts")
        )
    median_dispatch_seconds(small)  # warm-up
    t_small = median_dispatch_seconds(small)
    t_large = median_dispatch_seconds(large)
    return (
        f"tick_cost_1m_vs_10k: {t_large / t_small:.2f} x "
        f"({t_large * 1000:.1f} ms vs {t_small * 1000:.1f} ms per dispatch of {BATCH} calls)"
    )


if __name__ == "__main__":
    from ops.bench.common import prepare_bench_database

    prepare_bench_database()
    print(run(), flush=True)
