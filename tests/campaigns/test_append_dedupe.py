"""``POST /campaign/{id}/customers`` de-duplicates in the database: appending a few rows to a
campaign of many contacts holds nothing of those contacts in the API."""

from __future__ import annotations

import tracemalloc
import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from orchestrator.contacts import repository as contacts_repo
from orchestrator.contacts.service import NewContact
from orchestrator.models import Campaign
from tests.factories import customer_numbers, post_campaign
from tests.factories.contacts import contacts_of

EXISTING = 100_000
# The keys of EXISTING contacts alone take several times this.
MAX_TRACED_BYTES = 3 << 20


def _fill(session: Session, campaign: Campaign, count: int) -> None:
    contacts = (
        NewContact(
            position=position,
            phone_number_id=None,
            number=None,
            dedupe_key=f"sip:sip:desk-{position}@example.com",
            customer={"sipUri": f"sip:desk-{position}@example.com"},
        )
        for position in range(1, count + 1)
    )
    contacts_repo.copy_contacts(
        session, campaign_id=campaign.id, org_id=campaign.org_id, contacts=contacts
    )
    campaign.contacts_total += count
    session.flush()


def test_a_few_rows_appended_to_a_large_campaign_take_little_memory(
    api: TestClient, auth: dict[str, str], session: Session
) -> None:
    created = post_campaign(api, auth, customers=1)
    campaign = session.get(Campaign, uuid.UUID(created["id"]))
    assert campaign is not None
    _fill(session, campaign, EXISTING)
    first, second = customer_numbers(2, start=900)
    body = f"number,sipUri\n{first},\n,sip:DESK-7@example.com\n{second},\n{first},\n"
    tracemalloc.start()
    try:
        response = api.post(
            f"/campaign/{created['id']}/customers",
            content=body,
            params={"onError": "skip"},
            headers={**auth, "Content-Type": "text/csv"},
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 201, response.text
    assert (response.json()["added"], response.json()["duplicates"]) == (2, 2)
    assert peak < MAX_TRACED_BYTES, peak
    contacts = contacts_of(session, campaign_id=campaign.id)
    assert len(contacts) == EXISTING + 3
    assert [contact.number for contact in contacts[-2:]] == [first, second]
    assert contacts[-2].position > EXISTING
