"""An append whose campaign changes what its rows depend on while they are read (a PATCH
during a long upload) is refused with a 409 and keeps nothing: the change is made at the
point a concurrent one would land, after the rows are moved and before the row lock."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from orchestrator.contacts import import_repository
from orchestrator.models import Campaign
from tests.factories import customer_numbers, post_campaign
from tests.factories.contacts import contacts_of
from tests.support.errors import error_messages

SMS_PLAN = {"input": "Hi {{customer.name}}."}


@pytest.mark.parametrize(
    "change",
    [
        {"phone_number_id": "phone-elsewhere"},
        {"assistant_overrides": {"variableValues": {"city": "Oslo"}}},
        {"extensions": {"smsPlan": {"input": "Bye {{customer.name}}."}}},
    ],
)
def test_a_campaign_changed_during_an_append_refuses_it_and_keeps_nothing(
    api: TestClient,
    auth: dict[str, str],
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    change: dict[str, Any],
) -> None:
    customer = {"number": customer_numbers(1)[0], "name": "Ada"}
    created = post_campaign(api, auth, customers=[customer], channel="sms", smsPlan=SMS_PLAN)
    campaign_id = uuid.UUID(created["id"])
    drop = import_repository.drop_staging

    def drop_then_change(session: Session) -> None:
        drop(session)
        session.execute(update(Campaign).where(Campaign.id == campaign_id).values(**change))

    monkeypatch.setattr(import_repository, "drop_staging", drop_then_change)
    body = f"number,name\n{customer_numbers(1, start=990)[0]},Bob\n"
    response = api.post(
        f"/campaign/{created['id']}/customers",
        content=body,
        headers={**auth, "Content-Type": "text/csv"},
    )
    assert error_messages(response, 409) == (
        "the campaign's phoneNumberId, assistantOverrides or texts changed while the "
        "customers were read: nothing was added, send them again"
    )
    assert len(contacts_of(session, campaign_id=campaign_id)) == 1
    campaign = session.get(Campaign, campaign_id, populate_existing=True)
    assert campaign is not None and campaign.contacts_total == 1
