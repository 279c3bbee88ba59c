"""The dial rate and the create latency: a call placed through the real flow, against a
provider over real HTTP, is counted by org and outcome and timed, and read at ``/metrics``."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from orchestrator.calls.placing import PlaceOutcome
from orchestrator.clock import utcnow
from orchestrator.flows import place_call as place_call_flow
from orchestrator.flows.place_call import place_call
from orchestrator.flows.place_calls import place_calls
from orchestrator.metrics.creates import create_outcome
from orchestrator.models import Call
from orchestrator.providers import VapiClient
from orchestrator.providers.errors import (
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderServerError,
    ProviderTimeout,
    ProviderUnreachable,
)
from tests.factories import (
    claimed_call,
    dispatch_campaign,
    end_call,
    make_campaign,
    make_org,
    unit_of,
)
from tests.support.metrics import Scrape, scrape

CREATES = "orchestrator_call_creates_total"
LATENCY = "orchestrator_call_create_seconds"
BY_NUMBER = "orchestrator_calls_in_flight_by_number"


def _observed(page: Scrape) -> float:
    return page.value(f"{LATENCY}_count") or 0.0


def _place(session: Session, call: Call) -> PlaceOutcome:
    session.commit()
    return place_call(call.id, unit_of_work=unit_of(session)).outcome


@pytest.mark.usefixtures("sends_to", "limiter")
def test_a_placed_call_is_counted_timed_and_in_flight_on_its_number(
    api: TestClient, session: Session
) -> None:
    call = claimed_call(session, customers=1)
    org, number = str(call.org_id), call.phone_number_id
    assert number is not None
    before = scrape(api)
    assert before.value(CREATES, org=org, outcome="accepted") is None
    assert before.value(BY_NUMBER, org=org, phone_number_id=number) == 1  # claimed holds it
    assert _place(session, call) == PlaceOutcome.PLACED
    after = scrape(api)
    assert after.value(CREATES, org=org, outcome="accepted") == 1
    assert _observed(after) == _observed(before) + 1
    assert after.families[LATENCY] == "histogram"
    slowest = after.value(f"{LATENCY}_bucket", le="30.0")
    assert slowest == (before.value(f"{LATENCY}_bucket", le="30.0") or 0) + 1
    assert after.value(BY_NUMBER, org=org, phone_number_id=number) == 1
    end_call(session, call_id=call.id, reason="customer-ended-call")
    assert scrape(api).value(BY_NUMBER, org=org, phone_number_id=number) is None


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The flow's provider client pointed at a port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with VapiClient(base_url=f"http://127.0.0.1:{port}", api_key="x", timeout=2) as client:
        monkeypatch.setattr(place_call_flow, "provider_client", lambda: client)
        yield


@pytest.mark.usefixtures("unreachable", "limiter")
def test_a_create_that_reached_nobody_is_counted_unreachable_and_timed(
    api: TestClient, session: Session
) -> None:
    call = claimed_call(session, customers=1)
    before = scrape(api)
    assert _place(session, call) == PlaceOutcome.WAITING
    after = scrape(api)
    org = str(call.org_id)
    assert after.value(CREATES, org=org, outcome="unreachable") == 1
    assert after.value(CREATES, org=org, outcome="accepted") is None
    assert _observed(after) == _observed(before) + 1


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (None, "accepted"),
        (ProviderTimeout("read timed out"), "ambiguous"),
        (ProviderServerError("bad gateway", status_code=502), "ambiguous"),
        (ProviderUnreachable("connection refused"), "unreachable"),
        (ProviderRateLimited("slow down", status_code=429), "refused"),
        (ProviderRejected("bad assistant", status_code=400), "refused"),
    ],
)
def test_each_answer_has_its_outcome(error: ProviderError | None, outcome: str) -> None:
    assert create_outcome(error) == outcome


@pytest.mark.usefixtures("sends_to", "limiter")
def test_a_batch_of_calls_is_counted_and_timed_in_one_go(api: TestClient, session: Session) -> None:
    org = make_org(session, name=f"metrics-batch-{uuid.uuid4()}", concurrency_limit=10)
    campaign_id = make_campaign(session, org=org, customers=3)
    call_ids = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=3)
    session.commit()
    before = scrape(api)
    outcomes = place_calls(call_ids, hand_back=lambda *_: None, unit_of_work=unit_of(session))
    assert set(outcomes.values()) == {PlaceOutcome.PLACED}
    after = scrape(api)
    assert after.value(CREATES, org=str(org.org_id), outcome="accepted") == 3
    assert _observed(after) == _observed(before) + 3
