"""A pre-dial check run by its flow inside the test's transaction, against a real HTTP
receiver: the question it asks, each verdict and each ``onError``, late verdicts, and the
provider never called for a contact that was not cleared."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from sqlalchemy.orm import Session

from orchestrator.calls.placing import PlaceOutcome
from orchestrator.campaigns.service import stop_campaign
from orchestrator.campaigns.states import CampaignEvent
from orchestrator.clock import ManualClock, utcnow
from orchestrator.config import get_settings
from orchestrator.flows import place_call as place_call_flow
from orchestrator.flows.place_call import place_call
from orchestrator.metrics.service import counted
from orchestrator.models import CampaignStatus, Contact, ContactStatus
from orchestrator.orgs.service import CreatedOrg
from orchestrator.pacing.limiter import RateLimiter
from orchestrator.predial.service import FIRST_RETRY_AFTER, apply_verdict, begin_check
from orchestrator.predial.verdicts import Outcome, Verdict, VerdictKind
from orchestrator.providers import VapiClient
from orchestrator.reasons import PREDIAL_ERROR, PREDIAL_NOT_ELIGIBLE
from orchestrator.simulator import FaultSpec
from tests.factories import (
    answer_call,
    campaign_drift,
    campaign_of,
    contacts_of,
    dispatch_now,
    end_call,
    events_of,
    force_campaign,
    make_campaign,
    make_org,
    predial_campaign,
    run_checks,
    unit_of,
)
from tests.support.simulators import Sim, drain, running
from tests.support.user_server import Received, Reply, UserServer, running_user_server

Answer = Callable[[Received], Reply]


@pytest.fixture
def server_answering() -> Iterator[Callable[[Answer], UserServer]]:
    """Start receivers that answer as the test says; all stopped when it ends."""
    with_stack: list[Any] = []

    def start(answer: Answer) -> UserServer:
        context = running_user_server(answer)
        with_stack.append(context)
        return context.__enter__()

    yield start
    for context in reversed(with_stack):
        context.__exit__(None, None, None)


def only_contact(session: Session, campaign_id: uuid.UUID) -> Contact:
    (contact,) = contacts_of(session, campaign_id=campaign_id)
    return contact


def check_once(session: Session, org: CreatedOrg, dispatched: list[uuid.UUID]) -> Outcome:
    (outcome,) = run_checks(session, dispatch_now(session, org=org).checks, dispatched=dispatched)
    return outcome


@pytest.mark.usefixtures("clock")
def test_the_check_asks_vapis_question_with_the_servers_headers(
    session: Session, org: CreatedOrg, server_answering: Callable[[Answer], UserServer]
) -> None:
    server = server_answering(lambda _: Reply.json({"eligible": True}))
    customer = {"number": "+14155550100", "name": "Ada", "externalId": "crm-1"}
    campaign_id = predial_campaign(session, org=org, url=server.url, customers=[customer])
    dispatched: list[uuid.UUID] = []

    assert check_once(session, org, dispatched) == Outcome.CLEARED

    (request,) = server.received
    message = request.message
    contact = only_contact(session, campaign_id)
    assert message["type"] == "campaign.predial"
    assert message["campaignId"] == str(campaign_id)
    assert message["contact"]["id"] == str(contact.id)
    assert message["contact"]["number"] == "+14155550100"
    assert message["customer"] == customer
    assert isinstance(message["timestamp"], int)
    assert request.headers["x-crm-key"] == "crm-secret"
    assert request.headers["x-timestamp"] == str(message["timestamp"])
    assert dispatched == [org.org_id]
    assert (contact.predial_state, contact.status) == ("eligible", ContactStatus.PENDING)
    assert contact.predial_verdict is not None
    assert (contact.predial_verdict["attempt"], contact.predial_verdict["verdict"]) == (
        1,
        "eligible",
    )


@pytest.mark.usefixtures("clock")
def test_not_eligible_skips_the_contact_and_ends_a_campaign_with_nothing_left(
    session: Session, org: CreatedOrg, server_answering: Callable[[Answer], UserServer]
) -> None:
    server = server_answering(lambda _: Reply.json({"eligible": False}))
    campaign_id = predial_campaign(session, org=org, url=server.url, customers=1)
    dispatched: list[uuid.UUID] = []

    assert check_once(session, org, dispatched) == Outcome.REFUSED

    contact = only_contact(session, campaign_id)
    assert (contact.status, contact.status_reason) == (ContactStatus.SKIPPED, PREDIAL_NOT_ELIGIBLE)
    assert contact.predial_verdict is not None
    assert contact.predial_verdict["verdict"] == "not-eligible"
    assert dispatched == []
    assert campaign_drift(session, campaign_id=campaign_id) == {}
    assert campaign_of(session, campaign_id=campaign_id).status == CampaignStatus.ENDED
    reported = [(e.event_type, e.data) for e in events_of(session, campaign_id=campaign_id)]
    assert reported == [
        ("campaign.started", {}),
        ("contact.skipped", {"contactId": str(contact.id)}),
        ("campaign.ended", {"endedReason": "campaign.ended.success"}),
    ]


FAILURES: dict[str, tuple[Reply, str]] = {
    "500": (Reply.json({"eligible": True}, status=500), "answered 500"),
    "garbage": (Reply(body=b"<html>oops</html>"), "the answer is not JSON"),
    "string": (Reply.json({"eligible": "true"}), "the answer has no boolean eligible"),
    "too late": (Reply.json({"eligible": True}, delay=1.6), "no answer within 1 s"),
    "dropped": (Reply(drop=True), "request failed"),
}


@pytest.mark.usefixtures("clock")
@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_failed_check_is_predial_failed_with_its_error(
    session: Session,
    org: CreatedOrg,
    server_answering: Callable[[Answer], UserServer],
    failure: str,
) -> None:
    reply, error = FAILURES[failure]
    server = server_answering(lambda _: reply)
    campaign_id = predial_campaign(session, org=org, url=server.url, customers=1, timeout_seconds=1)

    assert check_once(session, org, []) == Outcome.FAILED

    contact = only_contact(session, campaign_id)
    assert (contact.status, contact.status_reason) == (ContactStatus.PREDIAL_FAILED, PREDIAL_ERROR)
    assert contact.predial_verdict is not None
    assert contact.predial_verdict["verdict"] == "error"
    assert contact.predial_verdict["error"].startswith(error)
    assert campaign_drift(session, campaign_id=campaign_id) == {}
    _started, reported, _ended = events_of(session, campaign_id=campaign_id)
    assert (reported.event_type, reported.data) == (
        "contact.predial-failed",
        {"contactId": str(contact.id), "error": contact.predial_verdict["error"]},
    )


@pytest.mark.usefixtures("clock")
def test_an_unreachable_server_fails_the_check(session: Session, org: CreatedOrg) -> None:
    with running_user_server() as gone:
        url = gone.url
    campaign_id = predial_campaign(session, org=org, url=url, customers=1)

    assert check_once(session, org, []) == Outcome.FAILED
    contact = only_contact(session, campaign_id)
    assert contact.status == ContactStatus.PREDIAL_FAILED


@pytest.mark.usefixtures("clock")
def test_on_error_dial_clears_the_contact_and_keeps_the_error(
    session: Session, org: CreatedOrg, server_answering: Callable[[Answer], UserServer]
) -> None:
    server = server_answering(lambda _: Reply(status=503))
    plan = {"enabled": True, "onError": "dial"}
    campaign_id = predial_campaign(session, org=org, url=server.url, customers=1, predial_plan=plan)

    assert check_once(session, org, []) == Outcome.CLEARED
    assert len(dispatch_now(session, org=org).call_ids) == 1
    contact = only_contact(session, campaign_id)
    assert contact.status == ContactStatus.DISPATCHED
    assert contact.predial_verdict is not None
    assert contact.predial_verdict["error"] == "answered 503"


def test_on_error_retry_asks_again_after_a_backoff_then_fails_at_its_bound(
    session: Session,
    org: CreatedOrg,
    clock: ManualClock,
    server_answering: Callable[[Answer], UserServer],
) -> None:
    server = server_answering(lambda _: Reply(status=500))
    plan = {"enabled": True, "onError": "retry", "onErrorMaxRetries": 2}
    campaign_id = predial_campaign(session, org=org, url=server.url, customers=1, predial_plan=plan)

    assert check_once(session, org, []) == Outcome.RETRY_LATER
    contact = only_contact(session, campaign_id)
    assert (contact.status, contact.predial_errors) == (ContactStatus.PENDING, 1)
    assert contact.not_before == clock.now + FIRST_RETRY_AFTER
    assert dispatch_now(session, org=org).checks == [], "not asked again before its time"

    clock.advance(FIRST_RETRY_AFTER.total_seconds())
    assert check_once(session, org, []) == Outcome.RETRY_LATER
    clock.advance(2 * FIRST_RETRY_AFTER.total_seconds())
    assert check_once(session, org, []) == Outcome.FAILED

    assert len(server.received) == 3
    assert only_contact(session, campaign_id).status == ContactStatus.PREDIAL_FAILED
    assert campaign_drift(session, campaign_id=campaign_id) == {}


@pytest.mark.usefixtures("clock")
def test_a_verdict_after_the_campaign_stopped_is_recorded_and_changes_nothing(
    session: Session, org: CreatedOrg, server_answering: Callable[[Answer], UserServer]
) -> None:
    server = server_answering(lambda _: Reply.json({"eligible": True}))
    campaign_id = predial_campaign(session, org=org, url=server.url, customers=1)
    checks = dispatch_now(session, org=org).checks
    check = begin_check(
        session, contact_id=checks[0].contact_id, lease_until=checks[0].lease_until, now=utcnow()
    )
    assert check is not None
    stop_campaign(
        session,
        campaign=campaign_of(session, campaign_id=campaign_id),
        event=CampaignEvent.END_BY_USER,
    )

    outcome = apply_verdict(
        session, check=check, verdict=Verdict(VerdictKind.ELIGIBLE), now=utcnow()
    )

    assert outcome == Outcome.IGNORED
    contact = only_contact(session, campaign_id)
    assert contact.status == ContactStatus.SKIPPED
    assert contact.predial_verdict is not None
    assert contact.predial_verdict["verdict"] == "eligible"
    assert campaign_drift(session, campaign_id=campaign_id) == {}


@pytest.mark.usefixtures("clock")
def test_each_attempt_of_a_retry_plan_is_asked_again(
    session: Session,
    org: CreatedOrg,
    clock: ManualClock,
    server_answering: Callable[[Answer], UserServer],
) -> None:
    server = server_answering(lambda _: Reply.json({"eligible": True}))
    retry = {"maxAttempts": 2, "retryOn": ["customer-did-not-answer"], "delaySeconds": 10}
    campaign_id = predial_campaign(session, org=org, url=server.url, customers=1, retryPlan=retry)
    check_once(session, org, [])
    (call_id,) = dispatch_now(session, org=org).call_ids
    answer_call(session, call_id=call_id)
    end_call(session, call_id=call_id, reason="customer-did-not-answer")
    contact = only_contact(session, campaign_id)
    assert (contact.status, contact.predial_state) == (ContactStatus.PENDING, None)
    clock.advance(10)

    second = dispatch_now(session, org=org)
    assert second.call_ids == [], "the second attempt is not cleared: it is asked"
    assert run_checks(session, second.checks) == [Outcome.CLEARED]
    assert len(dispatch_now(session, org=org).call_ids) == 1
    attempts = [json.loads(r.body)["message"]["contact"]["id"] for r in server.received]
    assert attempts == [str(contact.id)] * 2
    contact = only_contact(session, campaign_id)
    assert contact.predial_verdict is not None and contact.predial_verdict["attempt"] == 2


@pytest.mark.usefixtures("clock")
def test_a_slow_server_holds_none_of_the_orgs_capacity(
    session: Session, server_answering: Callable[[Answer], UserServer]
) -> None:
    org = make_org(session, name="shared", concurrency_limit=3)
    slow = server_answering(lambda _: Reply.json({"eligible": True}, delay=1.5))
    slow_id = predial_campaign(
        session, org=org, url=slow.url, customers=5, timeout_seconds=1, maxConcurrency=3
    )
    fast_id = make_campaign(session, org=org, customers=5, maxConcurrency=3)

    first = dispatch_now(session, org=org)

    assert len(first.checks) == 3, "the slow campaign's checks are under way"
    assert len(first.calls_by_campaign[fast_id]) == 3, "and hold none of the org's 3 calls"
    started = time.monotonic()
    assert run_checks(session, first.checks) == [Outcome.FAILED] * 3
    assert time.monotonic() - started < 3 * 1.5
    assert slow_id not in dispatch_now(session, org=org).calls_by_campaign
    assert campaign_drift(session, campaign_id=slow_id) == {}
    assert campaign_drift(session, campaign_id=fast_id) == {}


# --- against a provider: the provider is never called for a contact not cleared -----------------


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sim]:
    """A provider over real HTTP that sends no webhooks, and a rate limiter of the test's own."""
    client: redis.Redis[bytes] = redis.Redis.from_url(get_settings().redis_url)
    prefix = f"test:{uuid.uuid4()}:"
    limiter = RateLimiter(client, prefix=prefix)
    limiter.mark_state_complete("test")
    monkeypatch.setattr(place_call_flow, "pacing_limiter", lambda: limiter)
    with (
        running(None, faults=FaultSpec(drop=1.0)) as sim,
        VapiClient(base_url=sim.base_url, api_key="predial-test", timeout=5) as vapi_client,
    ):
        monkeypatch.setattr(place_call_flow, "provider_client", lambda: vapi_client)
        yield sim
        assert sim.simulator is not None
        drain(sim.simulator)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def test_the_provider_is_called_only_for_contacts_cleared_before_their_claim(
    session: Session,
    org: CreatedOrg,
    provider: Sim,
    server_answering: Callable[[Answer], UserServer],
) -> None:
    def answer(request: Received) -> Reply:
        last_digit = int(request.message["contact"]["number"][-1])
        return Reply.json({"eligible": last_digit % 2 == 0})

    server = server_answering(answer)
    campaign_id = predial_campaign(session, org=org, url=server.url, customers=6)
    first = dispatch_now(session, org=org)
    assert first.call_ids == [], "nothing is claimed before its check"

    run_checks(session, first.checks)
    call_ids = dispatch_now(session, org=org).call_ids
    outcomes = [place_call(call_id, unit_of_work=unit_of(session)).outcome for call_id in call_ids]
    assert outcomes == [PlaceOutcome.PLACED] * 3

    contacts = contacts_of(session, campaign_id=campaign_id)
    eligible = {c.number for c in contacts if int(str(c.number)[-1]) % 2 == 0}
    dialed = {created["customer"]["number"] for created in provider.calls()}
    assert len(eligible) == 3 and dialed == eligible
    assert {c.status for c in contacts if c.number not in eligible} == {ContactStatus.SKIPPED}
    assert campaign_drift(session, campaign_id=campaign_id) == {}


@pytest.mark.usefixtures("clock")
def test_a_check_whose_campaign_paused_meanwhile_is_not_sent_and_asked_on_resume(
    session: Session, org: CreatedOrg, server_answering: Callable[[Answer], UserServer]
) -> None:
    server = server_answering(lambda _: Reply.json({"eligible": True}))
    campaign_id = predial_campaign(session, org=org, url=server.url, customers=1)
    checks = dispatch_now(session, org=org).checks
    force_campaign(session, campaign_id=str(campaign_id), status=CampaignStatus.PAUSED)

    assert run_checks(session, checks) == [Outcome.IGNORED]
    assert server.received == []
    assert only_contact(session, campaign_id).predial_state is None

    force_campaign(session, campaign_id=str(campaign_id), status=CampaignStatus.IN_PROGRESS)
    assert run_checks(session, dispatch_now(session, org=org).checks) == [Outcome.CLEARED]


@pytest.mark.usefixtures("clock")
def test_each_check_is_counted_by_verdict_and_outcome(
    session: Session, org: CreatedOrg, server_answering: Callable[[Answer], UserServer]
) -> None:
    server = server_answering(lambda _: Reply.json({"eligible": False}))
    predial_campaign(session, org=org, url=server.url, customers=1)
    labels = {"verdict": "not-eligible", "outcome": "refused"}
    before = counted("orchestrator_predial_checks", **labels)

    check_once(session, org, [])

    assert counted("orchestrator_predial_checks", **labels) == before + 1
