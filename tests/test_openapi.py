"""The OpenAPI document tells the truth: every answer of a routed endpoint has a documented
status and a body that matches its documented schema, and none is a server error.

Schemathesis drives every routed endpoint with generated requests, valid and invalid; the
generated requests rarely get past validation, so a second test walks the resources through
their lives (campaign calls dialed and ended, direct calls, paced numbers) and checks the
answers about them the same way. The phone-number endpoints ask a simulator for its numbers.
The provider webhook is left out: API users do not call it, and it has tests of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, get_args

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session
from starlette.types import Receive, Scope, Send

from orchestrator.app import create_app
from orchestrator.calls.dialing import begin_dial
from orchestrator.calls.service import record_provider_call
from orchestrator.calls.wire import WireCallStatus, vapi_status
from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.db import get_session
from orchestrator.exceptions import VAPI_ERROR_NAME
from orchestrator.models.enums import CallStatus
from orchestrator.phone_numbers.cache import LookupCache
from orchestrator.phone_numbers.provider import ProviderNumbers, provider_numbers
from orchestrator.providers import VapiClient
from orchestrator.providers.chats import ProviderChats
from orchestrator.providers.client import provider_chats
from orchestrator.providers.webhook_server import WEBHOOK_PATH
from tests.factories import campaign_body, customer_numbers, dispatch_campaign, end_call
from tests.support.chats_provider import serving
from tests.support.simulators import running

# Fixed, so a run is repeatable and a failure reproduces; bounded, so the run stays short.
SEED = 20_260_302
MAX_EXAMPLES = 60
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

APP = create_app()


async def _app_without_lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    """The app's requests; nothing runs at its start or stop, so no state outlives a test."""
    if scope["type"] != "lifespan":
        await APP(scope, receive, send)


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "database": "none",
            # Requests carry the test org's key; a generated one would only ever be refused.
            "with-security-parameters": False,
        },
    }
)
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", _app_without_lifespan, config=CONFIG
).exclude(path=WEBHOOK_PATH)


@pytest.fixture(scope="module")
def provider() -> Iterator[VapiClient]:
    """The provider the phone-number endpoints ask: a simulator over HTTP with two numbers."""
    with (
        running(None, phone_numbers=("phone-1", "phone-2")) as sim,
        VapiClient(base_url=sim.base_url, api_key="openapi", timeout=5) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def chats_provider() -> Iterator[VapiClient]:
    """The provider the chat and session endpoints ask: one that answers over HTTP."""
    with (
        serving() as (_, base_url),
        VapiClient(base_url=base_url, api_key="openapi", timeout=5) as client,
    ):
        yield client


@pytest.fixture
def api_key(
    session: Session, auth: dict[str, str], provider: VapiClient, chats_provider: VapiClient
) -> Iterator[dict[str, str]]:
    """The org's key; each request is a unit of work inside the test's transaction, as
    ``session_scope`` is one of its own: committed on success, rolled back on error."""
    session.commit()  # the org outlives the requests that fail

    def _session() -> Iterator[Session]:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    APP.dependency_overrides[get_session] = _session
    lookups = ProviderNumbers(provider, LookupCache(ttl_seconds=0))
    APP.dependency_overrides[provider_numbers] = lambda: lookups
    APP.dependency_overrides[provider_chats] = lambda: ProviderChats(chats_provider)
    yield auth
    APP.dependency_overrides.clear()


@schema.parametrize()
# The examples of one endpoint share its test's transaction and org: what one creates, the
# next may read.
@hypothesis.settings(
    deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
def test_every_answer_is_documented(case: schemathesis.Case[Any], api_key: dict[str, str]) -> None:
    case.call_and_validate(headers=dict(api_key), checks=CHECKS)


class Client:
    """Requests built from the document's operations, each answer checked against it."""

    def __init__(self, api_key: dict[str, str]) -> None:
        self.api_key = api_key

    def __call__(self, method: str, path: str, **parts: Any) -> Any:
        case = schema[path][method].Case(**parts)
        response = case.call_and_validate(headers=dict(self.api_key), checks=CHECKS)
        assert response.status_code < 300, response.text
        return response.json() if "json" in response.headers["content-type"][0] else None


def _campaign_in_flight(request: Client, session: Session) -> str:
    """A campaign with every extension set, one call in progress and one ended."""
    body = campaign_body(
        customers=[
            {"number": customer_numbers(1)[0], "name": "Ada", "timezone": "Europe/London"},
            {"number": customer_numbers(1, start=1)[0], "assistantOverrides": {"a": [1]}},
            {"number": customer_numbers(1, start=2)[0], "extension": "12"},
        ],
        retryPlan={"maxAttempts": 2},
        optOutPlan={"structuredDataKey": "optOut", "endedReasons": ["customer-busy"]},
        assistantOverrides={"variableValues": {"clinic": "North"}},
        server={"url": "https://example.com/hook"},
        serverMessages=["campaign.started"],
    )
    campaign_id: str = request("POST", "/campaign", body=body)["id"]
    calls = dispatch_campaign(
        session, campaign_id=uuid.UUID(campaign_id), now=utcnow(), batch_limit=2
    )
    for call_id in calls:
        begin_dial(session, call_id=call_id, settings=get_settings())
        record_provider_call(session, call_id=call_id, provider_call={"id": f"p-{call_id}"})
    end_call(session, call_id=calls[0], reason="customer-ended-call")
    session.commit()
    return campaign_id


def _walk_campaigns(request: Client, session: Session) -> None:
    campaign_id = _campaign_in_flight(request, session)
    hours = {"windows": [{"days": ["mon"], "start": "09:00", "end": "17:00"}]}
    planned = campaign_body(
        customers=0,
        phoneNumberId=None,
        dialPlan=[{"phoneNumberId": "phone-2", "customers": [{"number": customer_numbers(1)[0]}]}],
        schedulePlan={"earliestAt": "2030-03-01T09:00:00Z", "latestAt": "2030-03-02T09:00:00Z"},
        callingHours=hours,
    )
    planned_id = request("POST", "/campaign", body=planned)["id"]

    by_id = {"campaign_id": campaign_id}
    assert len(request("GET", "/campaign", query={"limit": 10})["results"]) == 2
    assert len(request("GET", "/campaign/{campaign_id}", path_parameters=by_id)["calls"]) == 2
    paused = request(
        "PATCH",
        "/campaign/{campaign_id}",
        path_parameters=by_id,
        body={"name": "Paused", "status": "paused"},
    )
    assert paused["pausedAt"]
    request("POST", "/campaign/{campaign_id}/reconcile", path_parameters=by_id)
    _walk_appends(request, by_id)
    request("GET", "/campaign/{campaign_id}/export", path_parameters=by_id)
    planned_by_id = {"campaign_id": planned_id}
    deleted = request("DELETE", "/campaign/{campaign_id}", path_parameters=planned_by_id)
    assert deleted["status"] == "archived"


def _walk_appends(request: Client, by_id: dict[str, str]) -> None:
    """Customers appended from CSV (one row rejected) and from JSON."""
    rows = f"number,appointment date\n{customer_numbers(1, start=3)[0]},Friday\n+1,x\n"
    appended = request(
        "POST",
        "/campaign/{campaign_id}/customers",
        path_parameters=by_id,
        query={"onError": "skip"},
        body=rows,
        media_type="text/csv",
    )
    assert (appended["added"], appended["rejected"], appended["errorCount"]) == (1, 1, 1)
    customers = {"customers": [{"number": customer_numbers(1, start=4)[0]}]}
    path = "/campaign/{campaign_id}/customers"
    json_body = {"body": customers, "media_type": "application/json"}
    assert request("POST", path, path_parameters=by_id, **json_body)["added"] == 1


def _walk_campaigns_v2(request: Client, session: Session) -> None:
    """v2 reads of a campaign with calls (made through v1), and a v2 campaign's life."""
    campaign_id = _campaign_in_flight(request, session)
    by_id = {"campaign_id": campaign_id}
    summary = request("GET", "/v2/campaign/{campaign_id}", path_parameters=by_id)
    assert summary["callMetrics"] == {"dialed": 2, "connected": 1}
    activity = request("GET", "/campaign/{campaign_id}/activity", path_parameters=by_id)
    assert (activity["inFlight"], activity["outcomes"]) == (1, {"customer-ended-call": 1})
    contacts = request(
        "GET",
        "/v2/campaign/{campaign_id}/contacts",
        path_parameters=by_id,
        query={"sortBy": "status", "limit": 2},
    )
    assert [c["status"] for c in contacts["results"]] == ["contact.pending", "contact.dispatched"]
    dialed = {"campaign_id": campaign_id, "contact_id": contacts["results"][1]["id"]}
    history = request(
        "GET", "/v2/campaign/{campaign_id}/contacts/{contact_id}", path_parameters=dialed
    )
    assert [d["kind"] for d in history["decisions"]] == ["claimed", "dialed"]
    body = campaign_body(customers=[{"sipUri": "sip:desk@example.com", "name": "Desk"}])
    created = request("POST", "/v2/campaign", body=body)
    v2_by_id = {"campaign_id": created["id"]}
    page = request("GET", "/v2/campaign", query={"includeCounters": True, "limit": 10})
    assert {c["id"] for c in page["results"]} >= {campaign_id, created["id"]}
    request(
        "PATCH",
        "/v2/campaign/{campaign_id}",
        path_parameters=v2_by_id,
        body={"status": "cancelled"},
    )
    skipped = request("GET", "/v2/campaign/{campaign_id}/contacts", path_parameters=v2_by_id)
    assert skipped["results"][0]["skipReason"] == "ended-by-user"
    copy = request(
        "POST", "/v2/campaign", body={"name": "Copy", "duplicateFromCampaignId": created["id"]}
    )
    deleted = request(
        "DELETE", "/v2/campaign/{campaign_id}", path_parameters={"campaign_id": copy["id"]}
    )
    assert deleted["status"] == "archived"


def _walk_direct_calls(request: Client) -> None:
    one: dict[str, Any] = {
        "assistantId": "assistant-1",
        "phoneNumberId": "phone-1",
        "customer": {"number": customer_numbers(1, start=5)[0]},
        "name": "Follow-up",
        "schedulePlan": {"earliestAt": "2030-03-01T09:00:00Z"},
    }
    call_id = request("POST", "/call", body=one)["id"]
    many = {key: value for key, value in one.items() if key != "customer"}
    many["customers"] = [{"number": number} for number in customer_numbers(2)]
    assert len(request("POST", "/call", body=many)["results"]) == 2

    assert len(request("GET", "/call", query={"limit": 10})) == 5
    by_id = {"call_id": call_id}
    request("GET", "/call/{call_id}", path_parameters=by_id)
    request("PATCH", "/call/{call_id}", path_parameters=by_id, body={"name": "Renamed"})
    assert request("DELETE", "/call/{call_id}", path_parameters=by_id)["status"] == "ended"


def _walk_suppression(request: Client) -> None:
    numbers = [*customer_numbers(2, start=7), "+1 (415) 555-0999"]
    body = {"numbers": numbers, "reason": "dnc", "source": "registry"}
    assert request("POST", "/suppression", body=body) == {"added": 3, "alreadyPresent": 0}
    later = {**body, "reason": "opt-out", "expiresAt": "2100-01-01T00:00:00Z"}
    assert request("POST", "/suppression", body=later)["alreadyPresent"] == 3
    # An opt-out takes a live entry of another reason over.
    page = request("GET", "/suppression", query={"reason": "opt-out", "limit": 2})
    assert page["metadata"]["totalItems"] == 3
    by_number = {"number": "+14155550999"}
    assert request("GET", "/suppression/{number}", path_parameters=by_number)["active"]
    assert request("DELETE", "/suppression/{number}", path_parameters=by_number)["source"]


def _walk_chats_and_sessions(request: Client) -> None:
    opened = request("POST", "/session", body={"assistantId": "assistant-1", "name": "Desk"})
    by_session = {"session_id": opened["id"]}
    patch = {"name": "Front desk", "expirationSeconds": 3600}
    assert request("PATCH", "/session/{session_id}", path_parameters=by_session, body=patch)
    plain = request("POST", "/chat", body={"assistantId": "assistant-1", "input": "Hello"})
    transport: dict[str, Any] = {"type": "twilio.sms", "phoneNumberId": "phone-1"}
    transport["customer"] = {"number": customer_numbers(1, start=9)[0]}
    text = request(
        "POST", "/chat", body={"assistantId": "a-1", "input": "Hi", "transport": transport}
    )
    assert text["delivery"] == {"status": "queued"}
    assert request("GET", "/chat", query={"limit": 10})["metadata"]["totalItems"] == 2
    assert request("GET", "/session", query={"limit": 10})["metadata"]["totalItems"] == 2
    request("GET", "/chat/{chat_id}", path_parameters={"chat_id": plain["id"]})
    withdrawn = request("DELETE", "/chat/{chat_id}", path_parameters={"chat_id": text["id"]})
    assert withdrawn["delivery"]["status"] == "failed"
    request("GET", "/session/{session_id}", path_parameters=by_session)
    assert request("DELETE", "/session/{session_id}", path_parameters=by_session)["name"]


def test_answers_about_existing_resources_match_the_document(
    api_key: dict[str, str], session: Session
) -> None:
    request = Client(api_key)
    by_number = {"phone_number_id": "phone-1"}
    request(
        "PUT",
        "/phone-number/{phone_number_id}/pacing",
        path_parameters=by_number,
        body={"callsPerSecond": 5, "messagesPerSecond": 20},
    )

    _walk_campaigns(request, session)
    _walk_direct_calls(request)
    _walk_campaigns_v2(request, session)
    _walk_suppression(request)
    _walk_chats_and_sessions(request)

    assert len(request("GET", "/phone-number")) == 2
    request("GET", "/phone-number/{phone_number_id}", path_parameters=by_number)
    request("GET", "/healthz")
    request("GET", "/metrics")
    caps = [{"maxAttempts": 2, "periodSeconds": 86400, "channels": ["call", "sms"]}]
    policy = {"frequencyCaps": caps, "optOutPlan": {"structuredDataKey": "optOut"}}
    assert request("PUT", "/policy", body=policy)["frequencyCaps"] == caps
    assert request("GET", "/policy")["optOutPlan"] == {"structuredDataKey": "optOut"}


def _document() -> dict[str, Any]:
    with TestClient(create_app()) as client:
        document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def test_invalid_requests_are_documented_as_400_in_vapis_shape() -> None:
    document = _document()
    error = {"$ref": f"#/components/schemas/{VAPI_ERROR_NAME}"}

    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "422" not in responses, f"{method} {path}"
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    assert response["content"]["application/json"]["schema"] == error
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_every_routed_answer_has_a_declared_body() -> None:
    for path, item in _document()["paths"].items():
        for method, operation in item.items():
            success = next(s for s in operation["responses"] if s.startswith("2"))
            content = operation["responses"][success]["content"]
            assert next(iter(content.values()))["schema"], f"{method} {path}"


def test_the_endpoints_that_take_the_api_key_say_so() -> None:
    document = _document()
    scheme = document["components"]["securitySchemes"]["apiKey"]

    assert scheme == {"type": "http", "scheme": "bearer"}
    assert document["paths"]["/campaign"]["get"]["security"] == [{"apiKey": []}]
    assert "security" not in document["paths"]["/healthz"]["get"]


def test_every_call_status_is_one_the_call_schema_allows() -> None:
    later = utcnow().replace(year=2100)
    statuses = {vapi_status(s) for s in CallStatus} | {
        vapi_status(CallStatus.SCHEDULED, not_before=later, now=utcnow())
    }

    assert statuses == set(get_args(WireCallStatus))
