"""``GET /campaign/{id}/export``: every contact as one CSV row, matching the contacts listing,
streamed, the org's own campaigns only."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from orchestrator.calls.dialing import begin_dial
from orchestrator.calls.service import record_provider_call
from orchestrator.campaigns import export
from orchestrator.clock import ManualClock, utcnow
from orchestrator.config import get_settings
from orchestrator.models import Call, Chat, Contact, TextStatus
from orchestrator.orgs.service import CreatedOrg
from tests.factories import (
    customer_numbers,
    dispatch_campaign,
    end_call,
    make_campaign,
    make_org,
)
from tests.factories.texts import sms_campaign_texts
from tests.support.servers import serve

ODD = ['a, "quoted" value', "two\nlines", "naïve café ☎", "=1+1", "", " spaced "]


def _customers(count: int) -> list[dict[str, Any]]:
    customers: list[dict[str, Any]] = []
    for i, number in enumerate(customer_numbers(count)):
        values: dict[str, Any] = {"appointment date": f"2026-04-{i % 28 + 1:02d}"}
        if i % 3 == 0:
            values["clinic"] = ODD[i % len(ODD)]
        if i % 7 == 0:
            values["count"] = i
        customer = {"number": number, "name": f"C{i}", "externalId": f"x-{i}"}
        if i % 2:
            customer["email"] = f"c{i}@example.com"
            customer["timezone"] = "Europe/London"
        customers.append({**customer, "assistantOverrides": {"variableValues": values}})
    return customers


def _ended_campaign(session: Session, org: CreatedOrg, count: int) -> uuid.UUID:
    """``count`` contacts; the first 10 dialed (the campaign's concurrency), 8 of them ended
    with a cost and a summary."""
    campaign_id = make_campaign(session, org=org, customers=_customers(count))
    dispatched = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=40)
    assert len(dispatched) == 10
    in_dial_order = (
        select(Call.id)
        .join(Contact, Contact.id == Call.contact_id)
        .where(Call.campaign_id == campaign_id)
        .order_by(Contact.position)
    )
    calls = list(session.scalars(in_dial_order))
    started = utcnow() - timedelta(minutes=5)
    for i, call_id in enumerate(calls):
        begin_dial(session, call_id=call_id, settings=get_settings())
        record_provider_call(session, call_id=call_id, provider_call={"id": f"p-{call_id}"})
        if i < 8:
            end_call(session, call_id=call_id, reason=("voicemail", "customer-ended-call")[i % 2])
            session.execute(
                update(Call)
                .where(Call.id == call_id)
                .values(
                    started_at=started,
                    ended_at=started + timedelta(seconds=i + 0.25),
                    cost=0.01 * i,
                    summary=f'Call {i}: confirmed, "see" notes' if i % 2 else None,
                    analysis={"summary": f"analysed {i}"} if i % 2 == 0 else None,
                )
            )
    session.flush()
    return campaign_id


def _export(api: TestClient, auth: dict[str, str], campaign_id: object) -> httpx.Response:
    answer: httpx.Response = api.get(f"/campaign/{campaign_id}/export", headers=auth)
    return answer


def _listing(api: TestClient, auth: dict[str, str], campaign_id: uuid.UUID) -> list[Any]:
    contacts: list[Any] = []
    page = 1
    while True:
        answer = api.get(
            f"/v2/campaign/{campaign_id}/contacts",
            params={"limit": 100, "page": page},
            headers=auth,
        ).json()
        contacts += answer["results"]
        if not answer["metadata"]["hasNextPage"]:
            return contacts
        page += 1


def test_every_contact_is_a_row_that_matches_the_contacts_listing(
    api: TestClient, auth: dict[str, str], session: Session, org: CreatedOrg
) -> None:
    campaign_id = _ended_campaign(session, org, 300)
    answer = _export(api, auth, campaign_id)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert f"campaign-{campaign_id}.csv" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    header = next(csv.reader(io.StringIO(answer.text)))
    assert header == [*export.FIXED_COLUMNS, "appointment date", "clinic", "count"]

    listed = _listing(api, auth, campaign_id)
    assert len(rows) == len(listed) == 300
    for row, contact in zip(rows, listed, strict=True):
        assert row["number"] == contact["number"]
        assert row["name"] == contact["name"]
        assert row["status"] == contact["status"]
        assert row["lastCallId"] == contact.get("callId", "")
        assert row["endedReason"] == contact.get("endedReason", "")
        assert row["skipReason"] == contact.get("skipReason", "")

    customers = _customers(300)
    for i, (row, customer) in enumerate(zip(rows, customers, strict=True)):
        values = customer["assistantOverrides"]["variableValues"]
        assert row["appointment date"] == values["appointment date"]
        assert row["clinic"] == str(values.get("clinic", ""))
        assert row["count"] == str(values.get("count", ""))
        assert (row["email"], row["timezone"]) == (
            customer.get("email", ""),
            customer.get("timezone", ""),
        )
        assert row["externalId"] == f"x-{i}"
        assert row["attempts"] == ("1" if i < 10 else "0")

    ended = rows[:8]
    assert [r["status"] for r in ended] == ["contact.completed"] * 8
    assert [r["durationSeconds"] for r in ended[:3]] == ["0.250", "1.250", "2.250"]
    assert [float(r["cost"]) for r in ended[:3]] == [0.0, 0.01, 0.02]
    assert ended[0]["summary"] == "analysed 0"
    assert ended[1]["summary"] == 'Call 1: confirmed, "see" notes'
    assert all(r["startedAt"].endswith("Z") and len(r["startedAt"]) == 24 for r in ended)
    assert [r["status"] for r in rows[8:11]] == ["contact.dispatched"] * 2 + ["contact.pending"]
    assert {r["startedAt"] + r["cost"] + r["summary"] for r in rows[8:]} == {""}


def test_odd_values_survive_the_csv_quoting(
    api: TestClient, auth: dict[str, str], session: Session, org: CreatedOrg
) -> None:
    customers = [
        {"number": n, "name": odd, "assistantOverrides": {"variableValues": {"note": odd}}}
        for n, odd in zip(customer_numbers(len(ODD)), ODD, strict=True)
    ]
    customers.append({"sipUri": "sip:desk@example.com", "name": "Desk"})
    campaign_id = make_campaign(session, org=org, customers=customers)
    text = _export(api, auth, campaign_id).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["name"] for r in rows] == [*ODD, "Desk"]
    assert [r["note"] for r in rows] == [*ODD, ""]
    assert rows[-1]["number"] == "sip:desk@example.com"
    assert '"a, ""quoted"" value"' in text and '"two\nlines"' in text


def test_variables_past_the_column_cap_or_named_like_a_column_go_in_one_json_column(
    api: TestClient,
    auth: dict[str, str],
    session: Session,
    org: CreatedOrg,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(export, "MAX_VARIABLE_COLUMNS", 2)
    values = {"a": "1", "b": "2", "c": "3", "status": "vip", "d": {"x": [1]}}
    customers = [
        {"number": customer_numbers(1)[0], "assistantOverrides": {"variableValues": values}}
    ]
    customers.append({"number": customer_numbers(1, start=1)[0]})
    campaign_id = make_campaign(session, org=org, customers=customers)
    rows = list(csv.reader(io.StringIO(_export(api, auth, campaign_id).text)))
    assert rows[0][len(export.FIXED_COLUMNS) :] == ["a", "b", "variables"]
    first = rows[1][len(export.FIXED_COLUMNS) :]
    assert first[:2] == ["1", "2"]
    assert json.loads(first[2]) == {"c": "3", "status": "vip", "d": {"x": [1]}}
    assert rows[2][len(export.FIXED_COLUMNS) :] == ["", "", ""]


def test_a_text_campaign_shows_each_texts_status(
    api: TestClient,
    auth: dict[str, str],
    session: Session,
    org: CreatedOrg,
    clock: ManualClock,
) -> None:
    campaign_id, texts = sms_campaign_texts(session, org=org, customers=3, now=clock.now)
    session.execute(
        update(Chat).where(Chat.id == texts[1].id).values(delivery_status=TextStatus.SENT)
    )
    session.execute(
        update(Chat).where(Chat.id == texts[2].id).values(delivery_status=TextStatus.SENDING)
    )
    session.flush()
    by_contact = {t.contact_id: t.id for t in texts}
    rows = list(csv.DictReader(io.StringIO(_export(api, auth, campaign_id).text)))
    listed = _listing(api, auth, campaign_id)
    assert len(by_contact) == 3
    assert [r["textStatus"] for r in rows] == [c["lastText"]["status"] for c in listed]
    assert sorted(r["textStatus"] for r in rows) == ["queued", "queued", "sent"]


def test_the_answer_streams_in_chunks(
    api: TestClient,
    auth: dict[str, str],
    session: Session,
    org: CreatedOrg,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(export, "CHUNK_ROWS", 25)
    campaign_id = _ended_campaign(session, org, 200)
    whole = _export(api, auth, campaign_id).text
    with (
        serve(api.app, lifespan="off") as base_url,  # type: ignore[arg-type]
        httpx.Client(base_url=base_url, headers=auth) as client,
        client.stream("GET", f"/campaign/{campaign_id}/export") as answer,
    ):
        assert answer.status_code == 200
        assert answer.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in answer.headers
        chunks = list(answer.iter_bytes())
    # The header goes out before the rows are read, then each 25 rows as they come.
    assert len(chunks) > 1 and chunks[0].startswith(b"number,name,email,externalId,")
    assert b"".join(chunks).decode() == whole
    assert len(whole.splitlines()) == 201


def test_another_orgs_campaign_is_not_found(
    api: TestClient, auth: dict[str, str], session: Session, org: CreatedOrg
) -> None:
    other = make_org(session, name=f"other-{uuid.uuid4()}")
    theirs = make_campaign(session, org=other, customers=2)
    for campaign_id in (theirs, uuid.uuid4(), "not-an-id"):
        answer = _export(api, auth, campaign_id)
        assert answer.status_code == 404, answer.text
        assert answer.json()["message"] == "Campaign not found"
    mine = _export(api, {"Authorization": f"Bearer {other.api_key}"}, theirs)
    assert len(mine.text.splitlines()) == 3
    assert _export(api, {}, theirs).status_code == 401
