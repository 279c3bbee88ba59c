"""``POST /campaign/{id}/customers`` de-duplicates in the database: appending a few rows to a
campaign of many contacts holds nothing of those contacts in the API, and the rows are moved
a chunk at a time, the first of two rows with one key kept whichever chunks they fall in."""

from __future__ import annotations

import tracemalloc
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from orchestrator.contacts import repository as contacts_repo
from orchestrator.contacts import staging
from orchestrator.contacts.service import NewContact
from orchestrator.models import Campaign
from tests.factories import customer_numbers, post_campaign
from tests.factories.contacts import contacts_of
from tests.support.errors import error_messages

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


def test_duplicates_across_chunks_keep_the_first_row_and_are_named_by_it(
    api: TestClient, auth: dict[str, str], session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging, "CHUNK_ROWS", 2)
    monkeypatch.setattr(staging, "BATCH_ROWS", 1)
    created = post_campaign(api, auth, customers=1)
    existing = created["customers"][0]["number"]
    a, b, c = customer_numbers(3, start=910)
    body = f"number,name\n{a},first\n{b},\n{c},\n{a},second\n{existing},\n{b},\n"
    url = f"/campaign/{created['id']}/customers"
    headers = {**auth, "Content-Type": "text/csv"}
    refused = api.post(url, content=body, headers=headers)
    assert error_messages(refused, 400) == [
        "row 5, column number: duplicates row 2",
        "row 6, column number: duplicates a contact already in the campaign",
        "row 7, column number: duplicates row 3",
        "3 problems in 3 rows: nothing added",
    ]
    assert len(contacts_of(session, campaign_id=uuid.UUID(created["id"]))) == 1
    skipped = api.post(url, content=body, params={"onError": "skip"}, headers=headers)
    assert skipped.status_code == 201, skipped.text
    assert (skipped.json()["added"], skipped.json()["duplicates"]) == (3, 3)
    contacts = contacts_of(session, campaign_id=uuid.UUID(created["id"]))
    assert [(contact.number, contact.customer.get("name")) for contact in contacts] == [
        (existing, None),
        (a, "first"),
        (b, None),
        (c, None),
    ]


def test_a_body_broken_after_some_chunks_were_moved_keeps_nothing(
    api: TestClient, auth: dict[str, str], session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging, "CHUNK_ROWS", 2)
    monkeypatch.setattr(staging, "BATCH_ROWS", 1)
    created = post_campaign(api, auth, customers=1)
    numbers = customer_numbers(4, start=920)
    url = f"/campaign/{created['id']}/customers"
    headers = {**auth, "Content-Type": "text/csv"}
    broken = "number\n" + "".join(f"{number}\n" for number in numbers[:3]) + '"+1415\n'
    assert error_messages(api.post(url, content=broken, headers=headers), 400) == [
        "row 5: unexpected end of data"
    ]
    assert len(contacts_of(session, campaign_id=uuid.UUID(created["id"]))) == 1
    good = api.post(url, content=f"number\n{numbers[3]}\n", headers=headers)
    assert good.status_code == 201, good.text
    assert len(contacts_of(session, campaign_id=uuid.UUID(created["id"]))) == 2
