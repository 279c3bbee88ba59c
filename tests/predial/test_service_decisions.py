"""Each pre-dial verdict is a decision in the contact's history, before what it leads to: a
claim, a retried check (and when), a skip, or the contact's end."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from orchestrator.clock import ManualClock
from orchestrator.orgs.service import CreatedOrg
from orchestrator.predial.service import FIRST_RETRY_AFTER, apply_verdict, begin_check
from orchestrator.predial.verdicts import Outcome, Verdict, VerdictKind
from orchestrator.reasons import PREDIAL_ERROR, PREDIAL_NOT_ELIGIBLE
from tests.factories import contacts_of, decisions_of, dispatch_now, kinds_of, predial_campaign

URL = "https://crm.example.com/predial"


def _verdict(
    session: Session, org: CreatedOrg, clock: ManualClock, verdict: Verdict, **plan: Any
) -> tuple[Outcome, Any]:
    campaign_id = predial_campaign(
        session, org=org, url=URL, customers=1, predial_plan={"enabled": True, **plan}
    )
    (check,) = dispatch_now(session, org=org, now=clock.now).checks
    started = begin_check(
        session, contact_id=check.contact_id, lease_until=check.lease_until, now=clock.now
    )
    assert started is not None
    outcome = apply_verdict(session, check=started, verdict=verdict, now=clock.now)
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    return outcome, contact


def test_an_eligible_verdict_then_the_claim(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    outcome, contact = _verdict(session, org, clock, Verdict(VerdictKind.ELIGIBLE))
    assert outcome == Outcome.CLEARED
    assert len(dispatch_now(session, org=org, now=clock.now).call_ids) == 1

    verdict, claimed = decisions_of(session, contact_id=contact.id)
    assert (verdict.kind, verdict.reason, verdict.detail) == (
        "predial",
        "eligible",
        {"outcome": "cleared"},
    )
    assert (verdict.retry_at, claimed.kind) == (None, "claimed")


def test_a_refusal_is_the_verdict_then_the_skip(
    session: Session, org: CreatedOrg, clock: ManualClock
) -> None:
    outcome, contact = _verdict(session, org, clock, Verdict(VerdictKind.NOT_ELIGIBLE))
    assert outcome == Outcome.REFUSED
    assert kinds_of(session, contact_id=contact.id) == [
        ("predial", "not-eligible"),
        ("skipped", PREDIAL_NOT_ELIGIBLE),
    ]


@pytest.mark.parametrize(
    ("plan", "outcome", "then"),
    [
        ({"onError": "retry"}, Outcome.RETRY_LATER, []),
        ({}, Outcome.FAILED, [("closed", PREDIAL_ERROR)]),
    ],
)
def test_a_failed_check_says_its_error_and_when_it_is_asked_again(
    session: Session,
    org: CreatedOrg,
    clock: ManualClock,
    plan: dict[str, Any],
    outcome: Outcome,
    then: list[tuple[str, str]],
) -> None:
    failed = Verdict(VerdictKind.ERROR, "answered 500")
    result, contact = _verdict(session, org, clock, failed, **plan)
    assert result == outcome

    verdict, *rest = decisions_of(session, contact_id=contact.id)
    assert (verdict.kind, verdict.reason) == ("predial", "error")
    assert verdict.detail == {"outcome": outcome.value, "error": "answered 500"}
    retried = outcome == Outcome.RETRY_LATER
    assert verdict.retry_at == (clock.now + FIRST_RETRY_AFTER if retried else None)
    assert [(d.kind, d.reason) for d in rest] == then
