"""Session and chat messages through ``POST /webhooks/vapi``, applied inline (before the answer)
and by the worker's applier: our sessions follow the provider's, and a customer's STOP or
START changes the org's suppression list in the same transaction, whatever the order."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.flows.apply_webhooks import apply_stored_webhooks
from orchestrator.models import ChatSession
from orchestrator.orgs.service import CreatedOrg
from orchestrator.suppression.repository import add_opt_outs
from orchestrator.suppression.schemas import SuppressionReason
from orchestrator.suppression.transfer import ImportRequest, import_file
from orchestrator.webhooks.intake import StoredBatch, WebhookIntake
from orchestrator.webhooks.repository import NewEvent
from orchestrator.webhooks.storing import store_events
from tests.factories import make_org, suppress, unit_of
from tests.factories.session_messages import conversation, fresh, sent_text, session_message

pytestmark = pytest.mark.usefixtures("no_other_webhook_events")

Deliver = Callable[[dict[str, Any]], None]


class _StoreOnly:
    """The worker mode's intake, inside the test's transaction: stored, applied later."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def store(self, events: Sequence[NewEvent]) -> StoredBatch:
        await anyio.to_thread.run_sync(store_events, self._session, events)
        return StoredBatch(waiting=True)

    async def close(self) -> None:
        return None


@pytest.fixture(params=["inline", "worker"])
def deliver(request: pytest.FixtureRequest, api: TestClient, session: Session) -> Deliver:
    """Posts a message to the webhook endpoint; by the worker, then runs the applier."""
    settings = get_settings()
    headers = {settings.webhook_secret_header: settings.webhook_secret}
    by_worker = request.param == "worker"
    if by_worker:
        api.app.state.webhook_intake = WebhookIntake(  # type: ignore[attr-defined]
            _StoreOnly(session), on_stored=lambda: None, on_freed=lambda _: None
        )

    def post(payload: dict[str, Any]) -> None:
        assert api.post("/webhooks/vapi", json=payload, headers=headers).status_code == 200
        if by_worker:
            apply_stored_webhooks(enqueue_dispatch=lambda _: None, unit_of_work=unit_of(session))

    return post


def _listed(api: TestClient, org: CreatedOrg) -> dict[str, tuple[str, str | None]]:
    """The org's list as ``GET /suppression`` shows it: number → (reason, source)."""
    answer = api.get("/suppression", headers={"Authorization": f"Bearer {org.api_key}"})
    assert answer.status_code == 200
    return {e["number"]: (e["reason"], e["source"]) for e in answer.json()["results"]}


def _said(deliver: Deliver, conversation_row: ChatSession, *said: str) -> None:
    assert conversation_row.provider_session_id is not None
    deliver(session_message(conversation_row.provider_session_id, conversation(*said)))


def test_a_stop_lists_the_number_with_the_session_as_source(
    deliver: Deliver, api: TestClient, session: Session
) -> None:
    org = make_org(session)
    row, _ = sent_text(session, org=org, number="+1 (415) 555-0100")
    _said(deliver, row, "STOP")

    assert _listed(api, org) == {"+14155550100": ("opt-out", str(row.id))}
    fresh(session, row)
    assert row.opted_out_at is not None and row.replied_at == row.opted_out_at
    assert len(row.messages) == 2 and row.last_activity_at == row.replied_at
    assert row.provider_synced_at is not None


@pytest.mark.parametrize(
    ("said", "listed"),
    [("  stop ", True), ("Unsubscribe", True), ("optout\n", True), ("STOP please", False)],
)
def test_only_a_message_that_is_exactly_a_keyword_opts_out(
    deliver: Deliver, api: TestClient, session: Session, said: str, listed: bool
) -> None:
    org = make_org(session)
    row, _ = sent_text(session, org=org)
    _said(deliver, row, said)

    assert bool(_listed(api, org)) is listed
    fresh(session, row)
    assert row.replied_at is not None, "a reply either way"
    assert (row.opted_out_at is not None) is listed


def test_our_own_stop_is_no_opt_out(deliver: Deliver, api: TestClient, session: Session) -> None:
    org = make_org(session)
    row, _ = sent_text(session, org=org)
    _said(deliver, row, ">STOP")
    assert _listed(api, org) == {}
    fresh(session, row)
    assert row.replied_at is None


def test_start_after_stop_takes_the_number_off(
    deliver: Deliver, api: TestClient, session: Session
) -> None:
    org = make_org(session)
    row, _ = sent_text(session, org=org)
    _said(deliver, row, "STOP")
    assert _listed(api, org)
    _said(deliver, row, "STOP", "start")

    assert _listed(api, org) == {}
    fresh(session, row)
    assert row.opted_out_at is None, "the customer asks to be texted again"


def test_start_never_lifts_a_dnc_entry_or_a_call_opt_out(
    deliver: Deliver, api: TestClient, session: Session
) -> None:
    org = make_org(session)
    dnc, heard_in_call = "+14155550101", "+14155550102"
    suppress(session, org=org, numbers=[dnc], reason="dnc", source="registry")
    suppress(session, org=org, numbers=[heard_in_call], reason="opt-out", source="a call")
    for number in (dnc, heard_in_call):
        row, _ = sent_text(session, org=org, number=number)
        _said(deliver, row, "STOP", "START")
        _said(deliver, row, "STOP", "START", "STOP", "YES")

    assert _listed(api, org) == {
        dnc: ("dnc", "registry"),
        heard_in_call: ("opt-out", "a call"),
    }, "a text's STOP took neither over, so START lifts neither"


def test_a_list_a_complaint_or_a_call_added_after_a_stop_takes_its_entry_over(
    deliver: Deliver, api: TestClient, session: Session, tmp_path: Path
) -> None:
    org = make_org(session)
    dnc, complaint, heard_in_call = "+14155550101", "+14155550102", "+14155550103"
    rows = {number: sent_text(session, org=org, number=number)[0] for number in (dnc, complaint)}
    rows[heard_in_call] = sent_text(session, org=org, number=heard_in_call)[0]
    for row in rows.values():
        _said(deliver, row, "STOP")
    listed = tmp_path / "dnc.csv"
    listed.write_text(f"number\n{dnc}\n")
    request = ImportRequest(
        org_id=org.org_id, path=listed, reason=SuppressionReason.DNC, source="registry"
    )
    assert import_file(session, request=request).already_present == 1
    suppress(session, org=org, numbers=[complaint], reason="complaint", source="support")
    call_id = str(uuid.uuid4())
    reason, now = str(SuppressionReason.OPT_OUT), utcnow()
    heard = [(org.org_id, heard_in_call, call_id)]
    assert add_opt_outs(session, heard=heard, reason=reason, now=now) == 0
    for row in rows.values():
        _said(deliver, row, "STOP", "YES")

    assert _listed(api, org) == {
        dnc: ("dnc", "registry"),
        complaint: ("complaint", "support"),
        heard_in_call: ("opt-out", call_id),
    }, "YES takes off only what a text put there"


def test_start_lifts_a_text_opt_out_heard_in_another_session(
    deliver: Deliver, api: TestClient, session: Session
) -> None:
    org, other_org = make_org(session), make_org(session)
    first, _ = sent_text(session, org=org)
    _said(deliver, first, "STOP")
    foreign, _ = sent_text(session, org=other_org)
    suppress(session, org=org, numbers=["+14155550199"], reason="opt-out", source=str(foreign.id))
    second, _ = sent_text(session, org=org)
    _said(deliver, second, "START")
    third, _ = sent_text(session, org=org, number="+14155550199")
    _said(deliver, third, "START")

    assert _listed(api, org) == {"+14155550199": ("opt-out", str(foreign.id))}, (
        "another org's session is no text opt-out of this org"
    )


def test_a_session_message_with_another_number_in_it_lists_the_session_customer(
    deliver: Deliver, api: TestClient, session: Session
) -> None:
    org = make_org(session)
    row, _ = sent_text(session, org=org, number="+14155550100")
    assert row.provider_session_id is not None
    messages = conversation("QUIT")
    deliver(session_message(row.provider_session_id, messages, customer={"number": "+1999"}))
    assert list(_listed(api, org)) == ["+14155550100"]
