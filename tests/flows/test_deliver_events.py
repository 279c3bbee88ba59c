"""Campaign events delivered to a real receiver: numbered, claimed with a lease and a bound
per receiver, signed, retried with backoff (or the campaign's plan), failed, redelivered."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.events import repository
from orchestrator.events.recording import record_events
from orchestrator.events.repository import NewEvent
from orchestrator.events.service import redeliver_events
from orchestrator.flows.deliver_events import (
    DispatchRun,
    deliver_events,
    dispatch_events,
    prune_delivered_events,
)
from orchestrator.models import CampaignEventStatus, OutboxEvent
from orchestrator.orgs.service import CreatedOrg
from tests.factories import dispatch_campaign, events_of, make_org, server_campaign, unit_of
from tests.support.user_server import Received, Reply, UserServer, running_user_server

SetEnv = Callable[..., None]


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[SetEnv]:
    """Settings for one test, from ``ORCH_`` variables given as keywords."""

    def set_env(**values: Any) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"ORCH_{name.upper()}", str(value))
        get_settings.cache_clear()

    yield set_env
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def no_other_events(session: Session) -> None:
    """Events end-to-end runs committed are not this test's to number or deliver."""
    session.query(OutboxEvent).delete()


pytestmark = pytest.mark.usefixtures("no_other_events")


@pytest.fixture
def receiver() -> Iterator[UserServer]:
    with running_user_server() as server:
        yield server


def _events_campaign(
    session: Session, org: CreatedOrg, url: str, *, customers: int = 2, **server: Any
) -> uuid.UUID:
    campaign_id = server_campaign(session, org=org, url=url, server=server, customers=customers)
    dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=50)
    return campaign_id


def _started(session: Session, org: CreatedOrg, url: str, **server: Any) -> uuid.UUID:
    """A campaign whose one event so far is its start (no contact claimed yet)."""
    campaign_id = server_campaign(session, org=org, url=url, server=server, customers=1)
    dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=0)
    return campaign_id


def _dispatch(session: Session) -> tuple[DispatchRun, list[list[uuid.UUID]]]:
    sent: list[list[uuid.UUID]] = []
    run = dispatch_events(enqueue=lambda ids: sent.append(list(ids)), unit_of_work=unit_of(session))
    return run, sent


def _deliver_all(session: Session) -> None:
    _, batches = _dispatch(session)
    for batch in batches:
        deliver_events(batch, unit_of_work=unit_of(session))


def _signed(secret: str, request: Received) -> bool:
    payload = request.headers["x-timestamp"].encode() + b"." + request.body
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request.headers["x-signature"])


def test_events_are_numbered_per_campaign_in_the_order_they_were_recorded(
    session: Session, org: CreatedOrg
) -> None:
    first = _events_campaign(session, org, "https://a.example.com/h", customers=2)
    second = _events_campaign(session, org, "https://b.example.com/h", customers=1)
    run, _ = _dispatch(session)
    assert run.numbered == 5
    for campaign_id, count in ((first, 3), (second, 2)):
        events = events_of(session, campaign_id=campaign_id)
        assert [e.sequence for e in events] == list(range(1, count + 1))
    dispatch_campaign(session, campaign_id=first, now=utcnow(), batch_limit=50)  # nothing due
    with unit_of(session)() as s:
        assert repository.number_events(s, limit=100) == 0


def test_a_delivery_is_vapis_message_signed_with_the_orgs_secret(
    session: Session, org: CreatedOrg, receiver: UserServer
) -> None:
    campaign_id = _events_campaign(
        session, org, receiver.url, customers=1, headers={"x-api-key": "theirs"}
    )
    _deliver_all(session)
    assert len(receiver.received) == 2
    started, dispatched = receiver.received
    assert started.message["eventType"] == "campaign.started"
    message = dispatched.message
    recorded = events_of(session, campaign_id=campaign_id)[1]
    assert message == {
        "type": "campaign.event",
        "timestamp": int(recorded.occurred_at.timestamp() * 1000),
        "campaignId": str(campaign_id),
        "eventType": "contact.dispatched",
        "data": recorded.data,
        "eventId": str(recorded.id),
        "sequence": 2,
    }
    headers = dispatched.headers
    assert headers["x-event-id"] == str(recorded.id)
    assert headers["x-event-sequence"] == "2"
    assert headers["x-campaign-id"] == str(campaign_id)
    assert headers["x-api-key"] == "theirs"
    assert _signed(org.signing_secret, dispatched)
    assert not _signed("whsec_other", dispatched)
    assert {e.status for e in events_of(session, campaign_id=campaign_id)} == {"delivered"}
    assert recorded.delivered_at is not None and recorded.attempts == 0 + 1


def test_a_failed_delivery_is_retried_with_jittered_backoff(
    session: Session, org: CreatedOrg, settings_env: SetEnv
) -> None:
    settings_env(events_retry_base_seconds=30)
    replies = iter([Reply(status=500), Reply(drop=True)])
    with running_user_server(lambda _: next(replies, Reply())) as server:
        campaign_id = _started(session, org, server.url)
        before = utcnow()
        _deliver_all(session)
        (event,) = events_of(session, campaign_id=campaign_id)
        assert (event.status, event.attempts, event.last_error) == ("pending", 1, "answered 500")
        assert before <= event.next_attempt_at <= utcnow() + timedelta(seconds=30)
        assert event.lease_until is None
        _force_due(session, event)
        _deliver_all(session)
        (event,) = events_of(session, campaign_id=campaign_id)
        assert (event.status, event.attempts) == ("pending", 2)
        assert event.last_error is not None and event.last_error.startswith("request failed")
        _force_due(session, event)
        _deliver_all(session)
        (event,) = events_of(session, campaign_id=campaign_id)
        assert (event.status, event.attempts, event.last_error) == ("delivered", 3, None)
        ids = {r.headers["x-event-id"] for r in server.received}
        assert ids == {str(event.id)} and len(server.received) == 3, "one event id throughout"


def _force_due(session: Session, event: OutboxEvent) -> None:
    event.next_attempt_at = utcnow() - timedelta(seconds=1)
    session.flush()


def test_no_retry_past_the_age_limit(
    session: Session, org: CreatedOrg, settings_env: SetEnv
) -> None:
    settings_env(events_retry_base_seconds=10, events_retry_max_age_seconds=5)
    with running_user_server(lambda _: Reply(status=503)) as server:
        campaign_id = _started(session, org, server.url)
        _deliver_all(session)
    (event,) = events_of(session, campaign_id=campaign_id)
    # A delay of up to 10 s may still fit in the 5 s; the second attempt's up to 20 s...
    for _ in range(20):
        if event.status == "failed":
            break
        _force_due(session, event)
        with running_user_server(lambda _: Reply(status=503)) as server:
            _point_at(session, campaign_id, server.url)
            _deliver_all(session)
        (event,) = events_of(session, campaign_id=campaign_id)
    assert event.status == "failed" and event.last_error == "answered 503"


def _point_at(session: Session, campaign_id: uuid.UUID, url: str) -> None:
    from tests.factories import force_campaign

    force_campaign(session, campaign_id=str(campaign_id), server={"url": url})


def test_the_campaigns_backoff_plan_and_its_excluded_codes(
    session: Session, org: CreatedOrg
) -> None:
    plan = {"type": "fixed", "maxRetries": 1, "baseDelaySeconds": 0, "excludedStatusCodes": [410]}
    answers = {"gone": Reply(status=410), "busy": Reply(status=502)}
    with running_user_server(lambda r: answers[r.path.rsplit("/", 1)[1]]) as server:
        base = server.url.rsplit("/", 1)[0]
        gone = _started(session, org, f"{base}/gone", backoffPlan=plan)
        busy = _started(session, org, f"{base}/busy", backoffPlan=plan)
        _deliver_all(session)
        _deliver_all(session)  # the plan's delay is 0: due again at once
        _deliver_all(session)
    assert [(e.status, e.attempts) for e in events_of(session, campaign_id=gone)] == [("failed", 1)]
    assert [(e.status, e.attempts) for e in events_of(session, campaign_id=busy)] == [("failed", 2)]


def test_a_private_address_is_refused_at_send_time_unless_allowed(
    session: Session, org: CreatedOrg, receiver: UserServer, settings_env: SetEnv
) -> None:
    campaign_id = _started(session, org, receiver.url)
    settings_env(allow_private_server_urls="false")
    _deliver_all(session)
    (event,) = events_of(session, campaign_id=campaign_id)
    assert receiver.received == []
    assert event.status == "pending" and event.attempts == 1
    assert event.last_error is not None and event.last_error.startswith("not sent: must not point")


def test_at_most_so_many_events_are_out_per_receiver_and_a_lease_ends(
    session: Session, settings_env: SetEnv
) -> None:
    settings_env(events_max_in_flight_per_receiver=4, events_delivery_batch=3)
    for index in range(3):
        org = make_org(session, name=f"org-{index}", concurrency_limit=50)
        _events_campaign(session, org, "https://shared.example.com/h", customers=3)
    other = make_org(session, name="other", concurrency_limit=50)
    _events_campaign(session, other, "https://other.example.com/h", customers=1)
    run, batches = _dispatch(session)
    assert run.numbered == 14
    assert sorted(len(b) for b in batches) == [1, 2, 3], "4 to the shared receiver, 2 to the other"
    _, more = _dispatch(session)
    assert more == [], "the receivers are at their bound while the leases last"
    leased = session.query(OutboxEvent).filter(OutboxEvent.lease_until.is_not(None)).all()
    for event in leased:  # the worker that had them died
        assert event.lease_until is not None
        event.lease_until = utcnow() - timedelta(seconds=1)
    session.flush()
    _, again = _dispatch(session)
    assert sorted(len(b) for b in again) == [1, 2, 3]


def test_a_batch_goes_in_sequence_order(session: Session, org: CreatedOrg) -> None:
    with running_user_server() as server:
        _events_campaign(session, org, server.url, customers=5)
        _deliver_all(session)
    sequences = [int(r.headers["x-event-sequence"]) for r in server.received]
    assert sequences == list(range(1, 7))


def test_failed_events_are_redelivered_as_a_new_round(session: Session, org: CreatedOrg) -> None:
    plan = {"type": "fixed", "maxRetries": 0, "baseDelaySeconds": 0}
    with running_user_server(lambda _: Reply(status=500)) as down:
        campaign_id = _events_campaign(session, org, down.url, customers=2, backoffPlan=plan)
        _deliver_all(session)
    assert {e.status for e in events_of(session, campaign_id=campaign_id)} == {"failed"}
    with running_user_server() as up:
        _point_at(session, campaign_id, up.url)
        answer = redeliver_events(
            session, org_id=org.org_id, campaign_id=str(campaign_id), body=None
        )
        assert answer == {"queued": 3}
        assert {(e.status, e.attempts) for e in events_of(session, campaign_id=campaign_id)} == {
            ("pending", 0)
        }
        _deliver_all(session)
    assert {e.status for e in events_of(session, campaign_id=campaign_id)} == {"delivered"}
    assert len({json.loads(r.body)["message"]["eventId"] for r in up.received}) == 3


def test_a_delivery_goes_on_to_its_receivers_next_due_events_within_the_bound(
    session: Session, org: CreatedOrg, settings_env: SetEnv
) -> None:
    settings_env(events_max_in_flight_per_receiver=5, events_delivery_batch=5)
    leased_seen: list[int] = []

    def answer(_: Received) -> Reply:
        leased_seen.append(
            session.query(OutboxEvent).filter(OutboxEvent.lease_until > utcnow()).count()
        )
        return Reply()

    with running_user_server(answer) as server:
        campaign_id = _events_campaign(session, org, server.url, customers=10)  # 11 events
        _, batches = _dispatch(session)
        assert [len(b) for b in batches] == [5], "the receiver's room"
        run = deliver_events(batches[0], unit_of_work=unit_of(session), keep_going_seconds=30)
    assert run.delivered == 11
    assert {e.status for e in events_of(session, campaign_id=campaign_id)} == {"delivered"}
    assert [int(r.headers["x-event-sequence"]) for r in server.received] == list(range(1, 12))
    assert max(leased_seen) <= 5


def test_a_delivery_to_a_receiver_that_takes_nothing_does_not_go_on(
    session: Session, org: CreatedOrg, settings_env: SetEnv
) -> None:
    settings_env(events_max_in_flight_per_receiver=5, events_delivery_batch=5)
    with running_user_server(lambda _: Reply(status=503)) as server:
        _events_campaign(session, org, server.url, customers=10)
        _, batches = _dispatch(session)
        run = deliver_events(batches[0], unit_of_work=unit_of(session), keep_going_seconds=30)
    assert (run.delivered, run.retried) == (0, 5)
    assert len(server.received) == 5, "its other events wait for the next beat"


def test_old_delivered_events_are_cleared_out_but_not_a_campaigns_last_number(
    session: Session, org: CreatedOrg
) -> None:
    now = utcnow()
    campaign_id = server_campaign(session, org=org, customers=5)
    dispatched = [
        NewEvent(campaign_id, "contact.dispatched", {"contactId": str(uuid.uuid4())})
        for _ in range(6)
    ]
    record_events(session, dispatched, now=now)
    assert repository.number_events(session, limit=100) == 6
    old, recent, failed, *_, last = events_of(session, campaign_id=campaign_id)
    week_ago = now - timedelta(days=8)
    for event, delivered_at in ((old, week_ago), (recent, now), (last, week_ago)):
        event.status, event.delivered_at = CampaignEventStatus.DELIVERED, delivered_at
    failed.status = CampaignEventStatus.FAILED
    session.flush()

    assert prune_delivered_events(unit_of_work=unit_of(session), clock=lambda: now) == 1
    kept = events_of(session, campaign_id=campaign_id)
    assert old not in kept and {recent, failed, last} <= set(kept)
    # Numbering goes on from the last number, which was kept though it is old.
    record_events(session, [NewEvent(campaign_id, "campaign.archived", {})])
    repository.number_events(session, limit=100)
    assert events_of(session, campaign_id=campaign_id)[-1].sequence == 7
