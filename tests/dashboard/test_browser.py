"""The dashboard in headless Chromium against the real API: signing in, a running campaign's
counters appearing and moving as its calls end, and pausing it from its page."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from orchestrator.clock import ManualClock, utcnow
from orchestrator.models import Campaign, CampaignStatus
from orchestrator.orgs.service import CreatedOrg
from tests.factories import answer_call, dispatch_campaign, end_call, make_campaign
from tests.factories.texts import sms_campaign_texts
from tests.support.dashboard import KEY_ITEM, Served, chromium, serve_in_session, sign_in

# A name that would be markup if the page ever wrote data as HTML.
NAME = 'Spring <img src=x onerror="document.title=1"> reminders'


@pytest.fixture
def served(api: TestClient, session: Session) -> Iterator[Served]:
    """The API on a real port, each request a unit of work in the test's transaction."""
    assert isinstance(api.app, FastAPI)
    with serve_in_session(api.app, session) as served:
        yield served


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _settle_calls(served: Served, session: Session, campaign_id: uuid.UUID) -> None:
    """Three contacts dialed: two of the calls end, one rings on."""
    with served.lock:
        calls = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=3)
        for call_id in calls:
            answer_call(session, call_id=call_id)
        for call_id in calls[:2]:
            end_call(session, call_id=call_id, reason="customer-ended-call")
        session.commit()


def test_a_running_campaigns_counters_appear_and_move(
    served: Served, browser: Browser, session: Session, org: CreatedOrg
) -> None:
    with served.lock:
        campaign_id = make_campaign(session, org=org, customers=5, name=NAME)
        session.commit()
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(f"{served.url}/dashboard")

    sign_in(page, "not-a-key")
    expect(page.locator("#errors")).to_have_text("Invalid API key")
    sign_in(page, org.api_key)

    row = page.locator(f'[data-campaign-id="{campaign_id}"]')
    expect(row.locator("a")).to_have_text(NAME)
    expect(row.locator('[data-counter="pending"]')).to_have_text("5")
    expect(row.locator('[data-counter="completed"]')).to_have_text("0")
    _settle_calls(served, session, campaign_id)
    expect(row.locator('[data-counter="completed"]')).to_have_text("2")
    expect(row.locator('[data-counter="dispatched"]')).to_have_text("1")
    expect(row.locator('[data-counter="pending"]')).to_have_text("2")

    assert org.api_key not in page.url
    assert page.evaluate(f"sessionStorage.getItem('{KEY_ITEM}')") == org.api_key
    assert page.context.cookies() == []
    assert page.title() == "Campaigns"
    assert all(url.startswith(served.url) for url in requested)
    assert not [text for text in console if "Content Security Policy" in text]


def test_a_campaigns_page_shows_its_calls_and_pauses_it(
    served: Served, browser: Browser, session: Session, org: CreatedOrg
) -> None:
    with served.lock:
        campaign_id = make_campaign(session, org=org, customers=5)
        session.commit()
    _settle_calls(served, session, campaign_id)
    page = browser.new_page()
    page.goto(f"{served.url}/dashboard#/campaign/{campaign_id}")
    sign_in(page, org.api_key)

    outcomes = page.locator('[data-panel="Outcomes by endedReason"]')
    expect(outcomes.locator("td")).to_have_text(["customer-ended-call", "2"])
    expect(page.locator('[data-figure="in-flight"]')).to_have_text("1")
    expect(page.locator("svg.chart rect.rate")).to_have_count(60)
    expect(page.locator('[data-panel^="Failed webhook deliveries"]')).to_contain_text("(0)")
    page.click('button[data-status="paused"]')
    expect(page.locator("h1 + .status")).to_have_text("paused")

    with served.lock:
        campaign = session.get(Campaign, campaign_id, populate_existing=True)
        assert campaign is not None and campaign.status == CampaignStatus.PAUSED
    expect(page.locator('button[data-status="in-progress"]')).to_have_text("Resume")
    assert f"#/campaign/{campaign_id}" in page.url
    assert org.api_key not in page.url


def test_a_campaign_that_texts_shows_its_texts(
    served: Served, browser: Browser, session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    # At a time the texts may be sent (a weekday afternoon), for the API as for the test.
    with served.lock:
        campaign_id, texts = sms_campaign_texts(session, org=org, customers=3, now=clock.now)
        session.commit()
    assert len(texts) == 3
    page = browser.new_page()
    page.goto(f"{served.url}/dashboard#/campaign/{campaign_id}")
    sign_in(page, org.api_key)

    cells = page.locator('[data-panel="Texts"] td')
    counts = {"queued": 3, "sent": 0, "failed": 0, "replied": 0, "optedOut": 0}
    expect(cells).to_have_text([str(cell) for pair in counts.items() for cell in pair])
