"""``contacts_page_1m``: a page of ``GET /v2/campaign/{id}/contacts`` deep into 1,000,000 contacts.

One campaign of a million contacts in every status (most of them ended, each ended one with a
call), vacuumed and analyzed as a long-running campaign's table would be. For each sort, with
and without a status filter, the page at position 999,900 is read through the repository the
endpoint uses; the figure is the median of a few runs. Before timing, each query's plan is
checked to read its sort's index and never the whole table (``assert_plans``), and the
campaign's ``callMetrics`` aggregate is timed too.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from ops.bench.common import percentile
from orchestrator.campaigns import counter_repository
from orchestrator.campaigns.counters import CounterDeltas, counter_deltas
from orchestrator.campaigns.repository import call_metrics
from orchestrator.contacts import listing_repository
from orchestrator.contacts.listing_repository import ContactOrder
from orchestrator.contacts.states import ContactStatus
from orchestrator.db import get_engine, session_scope
from orchestrator.models import Campaign, CampaignStatus
from orchestrator.orgs.service import create_org

CONTACTS = 1_000_000
LIMIT = 50
OFFSET = CONTACTS - 2 * LIMIT
RUNS = 5
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
# The status of the contact at each position, by its position modulo 20: mostly ended.
STATUS_CYCLE = (
    [ContactStatus.COMPLETED] * 9
    + [ContactStatus.FAILED] * 5
    + [ContactStatus.SKIPPED] * 2
    + [ContactStatus.DISPATCHED, ContactStatus.PREDIAL_FAILED]
    + [ContactStatus.PENDING] * 2
)
ENDED = (ContactStatus.COMPLETED, ContactStatus.FAILED, ContactStatus.DISPATCHED)
FILTER = [ContactStatus.FAILED, ContactStatus.SKIPPED]
INDEXES: dict[ContactOrder, str] = {
    "position": "ix_contacts_campaign_position",
    "status": "ix_contacts_campaign_status_order",
}


# How many contacts of each status the campaign has.
COUNTS = {
    status: sum(s == status for s in STATUS_CYCLE) * CONTACTS // len(STATUS_CYCLE)
    for status in ContactStatus
}


def _counters(counts: dict[ContactStatus, int]) -> CounterDeltas:
    deltas = CounterDeltas()
    for status, count in counts.items():
        deltas += counter_deltas(contact_after=status) * count
    return deltas


def _rows(campaign_id: uuid.UUID, org_id: uuid.UUID) -> Iterator[tuple[Any, ...]]:
    for i in range(CONTACTS):
        number = f"+1415{i:07d}"
        yield (
            uuid.uuid4(),
            campaign_id,
            org_id,
            i,
            "listing-a",
            number,
            f"tel:{number}",
            json.dumps({"number": number, "name": f"Customer {i}"}),
            STATUS_CYCLE[i % len(STATUS_CYCLE)].value,
            0 if STATUS_CYCLE[i % len(STATUS_CYCLE)] == ContactStatus.PENDING else 1,
            NOW,
            NOW,
            NOW,
        )


def seed_campaign() -> uuid.UUID:
    """A campaign of a million contacts in every status; each dialed one has one call."""
    with session_scope() as session:
        org = create_org(session, name="contact-listing", concurrency_limit=10)
        campaign = Campaign(
            id=uuid.uuid4(),
            org_id=org.org_id,
            name="listing 1m",
            status=CampaignStatus.IN_PROGRESS,
            assistant_id="assistant-bench",
            phone_number_id="listing-a",
            caller_number_ids=["listing-a"],
            contacts_total=CONTACTS,
            created_at=NOW,
        )
        session.add(campaign)
        session.flush()
        _copy_contacts(session, campaign.id, org.org_id)
        counter_repository.add_counter_shards(
            session, campaign_id=campaign.id, initial=_counters(COUNTS)
        )
        _add_calls(session, campaign.id)
        return campaign.id


def _copy_contacts(session: Session, campaign_id: uuid.UUID, org_id: uuid.UUID) -> None:
    raw = session.connection().connection.driver_connection
    assert raw is not None
    columns = "id, campaign_id, org_id, position, phone_number_id, number, dedupe_key, customer, "
    columns += "status, attempts, not_before, created_at, updated_at"
    with raw.cursor() as cursor, cursor.copy(f"COPY contacts ({columns}) FROM STDIN") as copy:
        for row in _rows(campaign_id, org_id):
            copy.write_row(row)


def _add_calls(session: Session, campaign_id: uuid.UUID) -> None:
    ended = ", ".join(f"'{status.value}'" for status in ENDED)
    session.execute(
        text(
            "INSERT INTO calls (id, org_id, campaign_id, contact_id, attempt, provider_call_id, "
            "status, ended_reason, customer, created_at, updated_at) "
            "SELECT gen_random_uuid(), org_id, campaign_id, id, 1, 'p-' || id, "
            "CASE WHEN status = 'dispatched' THEN 'in-progress' ELSE 'ended' END, "
            "CASE status WHEN 'completed' THEN 'customer-ended-call' "
            "WHEN 'failed' THEN 'customer-did-not-answer' END, "
            "customer, :now, :now FROM contacts "
            f"WHERE campaign_id = :campaign AND status IN ({ended})"
        ),
        {"campaign": campaign_id, "now": NOW},
    )


def _offset(filtered: bool) -> int:
    """A page near the end of the contacts read: of them all, or of those ``FILTER`` keeps."""
    if not filtered:
        return OFFSET
    return sum(COUNTS[status] for status in FILTER) - 2 * LIMIT


def _page(campaign_id: uuid.UUID, order: ContactOrder, filtered: bool) -> Callable[[], int]:
    def read() -> int:
        with session_scope() as session:
            rows = listing_repository.contacts_page(
                session,
                campaign_id=campaign_id,
                statuses=FILTER if filtered else None,
                order=order,
                counts=COUNTS,
                offset=_offset(filtered),
                limit=LIMIT,
            )
        return len(rows)

    return read


def assert_plans(campaign_id: uuid.UUID) -> None:
    """Each sort's page is found through its index: the last page of all contacts, and the
    first of a filter (deep into a filter, Postgres may rather scan and sort what it keeps)."""
    for order, index in INDEXES.items():
        for filtered, offset in ((False, OFFSET), (True, 0)):
            plan = explain(campaign_id, order=order, filtered=filtered, offset=offset)
            page_plan = plan.split("Index Scan using ix_contacts_campaign_position on contacts ")[0]
            assert index in page_plan and "Seq Scan" not in page_plan, plan


def explain(campaign_id: uuid.UUID, *, order: ContactOrder, filtered: bool, offset: int) -> str:
    """The page query's plan, as Postgres would run it now."""
    statement = listing_repository.page_statement(
        campaign_id=campaign_id,
        statuses=FILTER if filtered else None,
        order=order,
        counts=COUNTS,
        offset=offset,
        limit=LIMIT,
    )
    with session_scope() as session:
        compiled = statement.compile(session.connection(), compile_kwargs={"literal_binds": True})
        return "\n".join(str(line) for (line,) in session.execute(text(f"EXPLAIN {compiled}")))


def median_ms(read: Callable[[], Any]) -> float:
    read()  # warm
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        read()
        timings.append(time.perf_counter() - started)
    return percentile(timings, 0.5) * 1000


def run() -> str:
    campaign_id = seed_campaign()
    with get_engine().connect() as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        autocommit.execute(text("VACUUM ANALYZE contacts"))
        autocommit.execute(text("VACUUM ANALYZE calls"))
    assert_plans(campaign_id)
    times = {
        (order, filtered): median_ms(_page(campaign_id, order, filtered))
        for order in ("position", "status")
        for filtered in (False, True)
    }

    def metrics() -> None:
        with session_scope() as session:
            call_metrics(session, campaign_ids=[campaign_id])

    return (
        f"contacts_page_1m: {times['position', False]:.1f} ms by position, "
        f"{times['status', False]:.1f} ms by status (page at {OFFSET:,}; filtered on "
        f"{len(FILTER)} statuses: {times['position', True]:.1f} / {times['status', True]:.1f} ms; "
        f"callMetrics of the campaign: {median_ms(metrics):.1f} ms)"
    )


if __name__ == "__main__":
    from ops.bench.common import prepare_bench_database

    prepare_bench_database()
    print(run(), flush=True)
