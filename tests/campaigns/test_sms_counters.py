"""smsCounters of a campaign that texts, and each v2 contact's last text."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.models import Chat, ChatSession, TextStatus
from orchestrator.orgs.service import CreatedOrg
from orchestrator.scheduling.service import dispatch_org
from tests.factories import campaign_body

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_counters_and_last_texts_follow_the_texts(
    api: TestClient, auth: dict[str, str], session: Session, org: CreatedOrg
) -> None:
    body = campaign_body(customers=3, channel="sms", smsPlan={"input": "Reply YES."})
    campaign_id = api.post("/v2/campaign", json=body, headers=auth).json()["id"]
    dispatch_org(session, org_id=org.org_id, now=utcnow(), batch_limit=500)
    stmt = select(Chat).where(Chat.org_id == org.org_id).order_by(Chat.created_at)
    texts = list(session.scalars(stmt))
    texts[0].delivery_status = TextStatus.SENT
    texts[1].delivery_status = TextStatus.FAILED
    texts[1].delivery_reason = "suppressed"
    replied = session.get(ChatSession, texts[0].session_id)
    assert replied is not None
    replied.replied_at = replied.opted_out_at = NOW
    session.flush()
    read = api.get(f"/v2/campaign/{campaign_id}", headers=auth).json()
    assert read["smsCounters"] == {"queued": 1, "sent": 1, "failed": 1, "replied": 1, "optedOut": 1}
    assert read["contactCounters"]["dispatched"] == 3
    contacts = api.get(f"/v2/campaign/{campaign_id}/contacts", headers=auth).json()["results"]
    by_chat = {c["lastText"]["chatId"]: c["lastText"] for c in contacts}
    assert by_chat[str(texts[1].id)] == {
        "status": "failed",
        "reason": "suppressed",
        "chatId": str(texts[1].id),
        "sessionId": str(texts[1].session_id),
    }
    assert by_chat[str(texts[2].id)]["status"] == "queued"
