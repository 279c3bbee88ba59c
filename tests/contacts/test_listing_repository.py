"""The contacts listing finds a page through its sort's index, and places a page in status order
from the counts of each status."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from orchestrator.contacts.listing_repository import (
    ContactOrder,
    Run,
    contacts_page,
    page_statement,
    status_runs,
)
from orchestrator.contacts.states import ContactStatus
from orchestrator.orgs.service import CreatedOrg
from tests.factories import contacts_of, make_campaign

PENDING, DISPATCHED, COMPLETED, FAILED, SKIPPED, PREDIAL = list(ContactStatus)
COUNTS = {PENDING: 3, DISPATCHED: 0, COMPLETED: 5, FAILED: 2, SKIPPED: 0, PREDIAL: 1}


def test_a_page_within_one_status() -> None:
    assert status_runs(COUNTS, None, offset=4, limit=2) == [Run(COMPLETED, 1)]


def test_a_page_across_statuses_skips_the_empty_ones() -> None:
    assert status_runs(COUNTS, None, offset=2, limit=7) == [
        Run(PENDING, 2),
        Run(COMPLETED, 0),
        Run(FAILED, 0),
    ]


def test_a_filter_keeps_only_its_statuses_runs() -> None:
    assert status_runs(COUNTS, [PREDIAL, PENDING], offset=2, limit=5) == [
        Run(PENDING, 2),
        Run(PREDIAL, 0),
    ]


def test_a_page_past_the_end_is_empty() -> None:
    assert status_runs(COUNTS, None, offset=11, limit=5) == []
    assert status_runs({}, None, offset=0, limit=5) == []


def test_counts_below_zero_count_as_none() -> None:
    assert status_runs({PENDING: -2, FAILED: 1}, None, offset=0, limit=5) == [Run(FAILED, 0)]


def test_an_empty_run_list_reads_nothing(session: Session, org: CreatedOrg) -> None:
    campaign_id = make_campaign(session, org=org, customers=2)
    rows = contacts_page(
        session,
        campaign_id=campaign_id,
        statuses=[FAILED],
        order="status",
        counts={PENDING: 2},
        offset=0,
        limit=10,
    )
    assert rows == []
    every = contacts_page(
        session,
        campaign_id=campaign_id,
        statuses=None,
        order="status",
        counts={PENDING: 2},
        offset=0,
        limit=10,
    )
    assert [row.id for row in every] == [
        c.id for c in contacts_of(session, campaign_id=campaign_id)
    ]


INDEXES = {
    "position": "ix_contacts_campaign_position",
    "status": "ix_contacts_campaign_status_order",
}


@pytest.mark.parametrize("order", ["position", "status"])
@pytest.mark.parametrize("statuses", [None, [COMPLETED], [PENDING, FAILED]])
def test_a_page_is_read_from_its_sorts_index_without_a_sort(
    session: Session,
    org: CreatedOrg,
    order: ContactOrder,
    statuses: list[ContactStatus] | None,
) -> None:
    """Made unattractive, a scan of the table or a sort of what it reads shows up in the plan:
    each page query must be answerable by its index alone, in its order. (The real planner's
    choice on a million contacts: ``ops/bench/contact_listing.py``.)"""
    campaign_id = make_campaign(session, org=org, customers=3)
    session.execute(text("SET LOCAL enable_seqscan = off"))
    session.execute(text("SET LOCAL enable_bitmapscan = off"))
    session.execute(text("SET LOCAL enable_sort = off"))
    counts = {PENDING: 3}
    statement = page_statement(
        campaign_id=campaign_id,
        statuses=statuses,
        order=order,
        counts=counts,
        offset=1,
        limit=2,
    )
    compiled = statement.compile(session.connection(), compile_kwargs={"literal_binds": True})
    plan = "\n".join(str(line) for (line,) in session.execute(text(f"EXPLAIN {compiled}")))
    # The page's part: before the page's rows are joined by their position.
    page_part = plan.split(f"Index Scan using {INDEXES['position']} on contacts  ")[0]
    assert f"using {INDEXES[order]}" in page_part or "One-Time Filter: false" in page_part, plan
    assert "Seq Scan" not in page_part, plan
    if order == "position":
        assert "Sort" not in page_part, plan


def test_the_page_statement_reads_another_campaign_never(session: Session, org: CreatedOrg) -> None:
    mine = make_campaign(session, org=org, customers=2)
    make_campaign(session, org=org, customers=3)
    orders: tuple[ContactOrder, ...] = ("position", "status")
    for order in orders:
        rows = contacts_page(
            session,
            campaign_id=mine,
            statuses=None,
            order=order,
            counts={PENDING: 2},
            offset=0,
            limit=10,
        )
        assert len(rows) == 2
    assert (
        contacts_page(
            session,
            campaign_id=uuid.uuid4(),
            statuses=None,
            order="position",
            counts={},
            offset=0,
            limit=10,
        )
        == []
    )
