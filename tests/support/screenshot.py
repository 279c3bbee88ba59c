"""``docs/dashboard.png``: a running campaign's page, seeded through the code paths the browser
test uses and photographed in the same headless Chromium.

    .venv/bin/python -m tests.support.screenshot [docs/dashboard.png]

The campaign lives in a transaction of an ``orchestrator_screenshot`` database that is rolled
back at the end.
"""

from __future__ import annotations

import random
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from ops.bench.common import prepare_database
from orchestrator.clock import ManualClock, use_clock, utcnow
from orchestrator.models import Call, OutboxEvent
from orchestrator.orgs.service import CreatedOrg
from tests.factories import answer_call, dispatch_campaign, end_call, make_campaign, make_org
from tests.support.dashboard import chromium, serve_in_session, sign_in

DATABASE = "orchestrator_screenshot"
# How the seeded calls end, and how often.
OUTCOMES = {
    "customer-ended-call": 62,
    "assistant-ended-call": 14,
    "voicemail": 12,
    "customer-did-not-answer": 8,
    "customer-busy": 4,
}
SECONDS = 600
STEP = 2


def _database_url() -> str:
    # A database of its own: the tests' stays theirs.
    return prepare_database(DATABASE)


@contextmanager
def _rolled_back_session(url: str) -> Iterator[Session]:
    engine = create_engine(url)
    with engine.connect() as conn:
        transaction = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()
    engine.dispose()


def _run_calls(session: Session, campaign_id: uuid.UUID, *, clock: ManualClock) -> None:
    """Ten minutes of calls, two seconds at a time: dials ramping up to the campaign's
    concurrency, each call ending 15 to 90 seconds after it was answered."""
    rng = random.Random(20260302)
    reasons, weights = list(OUTCOMES), list(OUTCOMES.values())
    ending: list[tuple[datetime, uuid.UUID]] = []
    for step in range(0, SECONDS, STEP):
        now = clock.now
        for _, call_id in [entry for entry in ending if entry[0] <= now]:
            end_call(session, call_id=call_id, reason=rng.choices(reasons, weights)[0])
        ending = [entry for entry in ending if entry[0] > now]
        wanted = rng.randint(0, 2 + 4 * step // SECONDS)
        if wanted:
            dialed = dispatch_campaign(
                session, campaign_id=campaign_id, now=now, batch_limit=wanted
            )
            for call_id in dialed:
                answer_call(session, call_id=call_id)
                ending.append((now + timedelta(seconds=rng.uniform(15, 90)), call_id))
        clock.advance(STEP)


def seed(session: Session) -> tuple[CreatedOrg, uuid.UUID]:
    """A campaign of 2,000 contacts ten minutes into its run, the deliveries of its first three
    completions failed; its calls' times moved to end now, however long the seeding took."""
    start = utcnow() - timedelta(seconds=SECONDS)
    clock = ManualClock(start)
    with use_clock(clock):
        org = make_org(session, name="North clinic", concurrency_limit=40)
        campaign_id = make_campaign(
            session,
            org=org,
            customers=2000,
            name="Spring check-up reminders",
            maxConcurrency=30,
            server={"url": "https://hooks.example.com/campaign-events"},
        )
        _run_calls(session, campaign_id, clock=clock)
    shift = utcnow() - (start + timedelta(seconds=SECONDS))
    session.execute(
        update(Call)
        .where(Call.campaign_id == campaign_id)
        .values(
            created_at=Call.created_at + shift,
            updated_at=Call.updated_at + shift,
            dialed_at=Call.dialed_at + shift,
            ended_at=Call.ended_at + shift,
        )
    )
    some = (
        select(OutboxEvent.id)
        .where(OutboxEvent.campaign_id == campaign_id)
        .where(OutboxEvent.event_type == "contact.completed")
        .order_by(OutboxEvent.ordinal)
        .limit(3)
    )
    failed = session.scalars(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_(some.scalar_subquery()))
        .values(status="failed", attempts=6, last_error="answered 502 Bad Gateway")
        .returning(OutboxEvent.id)
    ).all()
    assert failed, "the campaign's events were recorded"
    session.commit()
    return org, campaign_id


def photograph(session: Session, org: CreatedOrg, campaign_id: uuid.UUID, path: Path) -> None:
    from orchestrator.app import create_app

    with serve_in_session(create_app(), session) as served, chromium() as browser:
        page = browser.new_page(viewport={"width": 1180, "height": 900})
        page.goto(f"{served.url}/dashboard#/campaign/{campaign_id}")
        sign_in(page, org.api_key)
        expect(page.locator("svg.chart rect.rate")).to_have_count(60)
        expect(page.locator('[data-panel="Outcomes by endedReason"] td').first).to_be_visible()
        page.screenshot(path=str(path), full_page=True)


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/dashboard.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _rolled_back_session(_database_url()) as session:
        org, campaign_id = seed(session)
        photograph(session, org, campaign_id, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
