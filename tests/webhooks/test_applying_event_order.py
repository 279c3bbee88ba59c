"""Any order, any duplication of a call's provider messages reaches the same end state.

Hypothesis draws a permutation of a call's messages (status updates, the end-of-call report,
and our own record of the create answer) with repeated deliveries mixed in; the call, its
contact and the campaign's counters must end exactly as when everything arrives in order.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.calls.service import record_provider_call
from orchestrator.campaigns.counters import counter_drift, recount_counters
from orchestrator.clock import ManualClock, utcnow
from orchestrator.models import Call, Campaign, Contact
from orchestrator.orgs.service import CreatedOrg
from orchestrator.webhooks.applying import ingest_message
from tests.factories import dispatch_campaign, make_campaign, make_org

REASONS = ("customer-ended-call", "voicemail", "customer-did-not-answer", "customer-busy")
RETRY_PLAN = {"maxAttempts": 2, "retryOn": ["customer-did-not-answer"], "delaySeconds": 60}
# The provider's messages disagree by a little, as real ones do: the merge must not care.
STARTED, ENDED = "2026-03-02T15:00:02.000Z", "2026-03-02T15:00:40.000Z"
REPORT_STARTED, STATUS_ENDED = "2026-03-02T15:00:02.400Z", "2026-03-02T15:00:39.700Z"
CREATE_ANSWER = "create-answer"

Step = str | dict[str, Any]


def _messages(call_id: uuid.UUID, provider_id: str, reason: str) -> list[Step]:
    """A call's messages as the provider sends them, and where our create answer falls."""
    metadata = {"orchestratorCallId": str(call_id)}

    def call_obj(**times: str) -> dict[str, Any]:
        return {"id": provider_id, "assistantOverrides": {"metadata": metadata}, **times}

    def update(status: str, stamp: int, **extra: Any) -> dict[str, Any]:
        body = {"type": "status-update", "status": status, "timestamp": stamp, **extra}
        return {"message": body}

    report = {
        "type": "end-of-call-report",
        "timestamp": 5,
        "endedReason": reason,
        "startedAt": REPORT_STARTED,
        "endedAt": ENDED,
        "cost": 0.07,
        "analysis": {"summary": f"ended: {reason}"},
        "call": call_obj(),
    }
    return [
        CREATE_ANSWER,
        update("queued", 1, call=call_obj()),
        update("ringing", 2, call=call_obj()),
        update("in-progress", 3, call=call_obj(startedAt=STARTED)),
        update(
            "ended", 4, endedReason=reason, call=call_obj(startedAt=STARTED, endedAt=STATUS_ENDED)
        ),
        {"message": report},
    ]


def _deliver(session: Session, call_id: uuid.UUID, provider_id: str, steps: list[Step]) -> None:
    for step in steps:
        if step == CREATE_ANSWER:
            record_provider_call(session, call_id=call_id, provider_call={"id": provider_id})
        else:
            assert isinstance(step, dict)
            ingest_message(session, payload=step)


def _end_state(session: Session, campaign_id: uuid.UUID) -> dict[str, Any]:
    call = session.scalars(
        select(Call)
        .where(Call.campaign_id == campaign_id)
        .execution_options(populate_existing=True)
    ).one()
    contact = session.get(Contact, call.contact_id, populate_existing=True)
    campaign = session.get(Campaign, campaign_id, populate_existing=True)
    assert contact is not None and campaign is not None
    assert counter_drift(session, campaign=campaign) == {}
    return {
        "call": (call.status, call.ended_reason, call.started_at, call.ended_at, call.cost),
        "summary": call.summary,
        "contact": (contact.status, contact.last_ended_reason, contact.not_before),
        "campaign": (campaign.status, campaign.ended_reason),
        "counters": recount_counters(session, campaign_id=campaign_id),
    }


def _run(
    session: Session, org: CreatedOrg, reason: str, order: Callable[[list[Step]], list[Step]]
) -> dict[str, Any]:
    """One fresh campaign and call, its messages delivered in ``order``; undone afterwards."""
    savepoint = session.begin_nested()
    try:
        campaign_id = make_campaign(session, org=org, customers=1, retryPlan=RETRY_PLAN)
        (call_id,) = dispatch_campaign(
            session, campaign_id=campaign_id, now=utcnow(), batch_limit=1
        )
        provider_id = f"provider-{uuid.uuid4()}"
        _deliver(session, call_id, provider_id, order(_messages(call_id, provider_id, reason)))
        return _end_state(session, campaign_id)
    finally:
        savepoint.rollback()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), reason=st.sampled_from(REASONS))
def test_any_order_and_duplication_reaches_the_same_end_state(
    session: Session, clock: ManualClock, data: st.DataObject, reason: str
) -> None:
    org = make_org(session, name=f"order-{uuid.uuid4()}")
    in_order = _run(session, org, reason, lambda steps: steps)

    def shuffled(steps: list[Step]) -> list[Step]:
        order = data.draw(st.permutations(range(len(steps))), label="order")
        again = data.draw(st.lists(st.sampled_from(range(len(steps))), max_size=4), label="again")
        delivered = [steps[i] for i in order]
        for index in again:
            at = data.draw(st.integers(0, len(delivered)), label="at")
            delivered.insert(at, steps[index])
        return delivered

    assert _run(session, org, reason, shuffled) == in_order
