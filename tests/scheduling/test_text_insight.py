"""The pacing insight of a campaign that texts: what holds its texts back, in the call shape."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.models import Campaign, Chat, Org, PhoneNumber
from orchestrator.orgs.service import CreatedOrg
from orchestrator.scheduling.insight import pacing_insight
from orchestrator.scheduling.service import dispatch_org
from tests.factories import make_campaign, make_org

# 15:00 UTC: 10:00 in New York, 02:00 (next day) in Sydney.
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
PLAN = {"input": "Hi {{customer.name | default: 'there'}}, reply YES to confirm."}
DAYTIME = {
    "windows": [
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "09:00",
            "end": "20:00",
        }
    ],
    "timezone": "contact",
}


def _org_with_rate(session: Session, rate: float) -> CreatedOrg:
    org = make_org(session, concurrency_limit=1)
    session.add(
        PhoneNumber(org_id=org.org_id, provider_phone_number_id="phone-1", messages_per_second=rate)
    )
    session.flush()
    return org


def _insight(
    session: Session, org: CreatedOrg, campaign_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    campaign = session.get_one(Campaign, campaign_id)
    return pacing_insight(session, campaign=campaign, org=session.get_one(Org, org.org_id), now=now)


def test_texts_wait_for_their_numbers_rate_not_for_concurrency(session: Session) -> None:
    org = _org_with_rate(session, 2.0)
    campaign_id = make_campaign(
        session, org=org, customers=30, maxConcurrency=1, channel="sms", smsPlan=PLAN
    )
    queued = dispatch_org(session, org_id=org.org_id, now=NOW, batch_limit=500).text_ids
    assert len(queued) == 10
    insight = _insight(session, org, campaign_id, NOW)
    # 20 contacts not queued yet and 10 texts in line: all wait for the 2 texts a second.
    assert insight["waiting"] == {"rate": 30}
    assert insight["sustainableCallsPerSecond"] == 2.0
    assert insight["limitedBy"] == "rate"
    assert insight["estimatedFinishAt"] == "2026-03-02T15:00:15.000Z"
    assert insight["stuckCalls"]["campaign"] == 0
    # Texts the caps pushed back (due later than the queue's few seconds) wait on the caps.
    for chat in session.scalars(select(Chat).where(Chat.id.in_(queued[:4]))):
        chat.due_at = NOW + timedelta(hours=3)
    session.flush()
    assert _insight(session, org, campaign_id, NOW)["waiting"] == {"rate": 26, "frequencyCap": 4}


def test_texts_and_contacts_outside_their_calling_hours_wait_on_them(session: Session) -> None:
    org = _org_with_rate(session, 10.0)
    customers = [
        {"number": "+12125550100", "name": "new-york"},
        {"number": "+61291234567", "name": "sydney"},
    ]
    campaign_id = make_campaign(
        session, org=org, customers=customers, channel="sms", smsPlan=PLAN, callingHours=DAYTIME
    )
    assert len(dispatch_org(session, org_id=org.org_id, now=NOW, batch_limit=500).text_ids) == 1
    assert _insight(session, org, campaign_id, NOW)["waiting"] == {"rate": 1, "callingHours": 1}
    # 10:00 UTC: 05:00 in New York, 21:00 in Sydney: the queued text waits on the hours too.
    closed = NOW + timedelta(hours=19)
    assert _insight(session, org, campaign_id, closed)["waiting"] == {"callingHours": 2}
