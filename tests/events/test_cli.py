"""``orchestrator events list`` and ``redeliver`` against the real test database."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from orchestrator.cli import app
from orchestrator.clock import utcnow
from orchestrator.events.schemas import MAX_REDELIVER_IDS
from orchestrator.models import OutboxEvent
from tests.factories import dispatch_campaign, make_org, server_campaign


def _campaign_with_a_failed_event(engine: Engine) -> tuple[uuid.UUID, uuid.UUID]:
    with Session(engine) as session:
        org = make_org(session, name=f"cli-events-{uuid.uuid4()}")
        campaign_id = server_campaign(session, org=org, customers=2)
        dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=1)
        failed = session.scalars(
            update(OutboxEvent)
            .where(
                OutboxEvent.campaign_id == campaign_id,
                OutboxEvent.event_type == "contact.dispatched",
            )
            .values(status="failed", attempts=3, last_error="answered 500")
            .returning(OutboxEvent.id)
        ).one()
        session.commit()
    return campaign_id, failed


def test_events_are_listed_and_failed_ones_redelivered(engine: Engine) -> None:
    campaign_id, failed = _campaign_with_a_failed_event(engine)
    runner = CliRunner()
    listed = runner.invoke(
        app, ["events", "list", "--campaign", str(campaign_id), "--status", "failed", "--json"]
    )
    assert listed.exit_code == 0, listed.output
    page = json.loads(listed.output)
    assert [(e["id"], e["lastError"]) for e in page["results"]] == [(str(failed), "answered 500")]
    shown = runner.invoke(app, ["events", "list", "--campaign", str(campaign_id)])
    assert "contact.dispatched" in shown.output and "campaign.started" in shown.output
    again = runner.invoke(app, ["events", "redeliver", "--campaign", str(campaign_id), "--json"])
    assert json.loads(again.output) == {"queued": 1}
    named = runner.invoke(
        app, ["events", "redeliver", "--campaign", str(campaign_id), "--event", str(failed)]
    )
    assert named.exit_code == 0 and "0 events queued" in named.output, "it is pending already"
    with Session(engine) as session:
        event = session.get(OutboxEvent, failed)
        assert event is not None and (event.status, event.attempts) == ("pending", 0)


def test_any_number_of_events_can_be_named(engine: Engine) -> None:
    campaign_id, failed = _campaign_with_a_failed_event(engine)
    others = [str(uuid.uuid4()) for _ in range(MAX_REDELIVER_IDS + 500)]
    named = [arg for event_id in [*others, str(failed)] for arg in ("--event", event_id)]
    result = CliRunner().invoke(
        app, ["events", "redeliver", "--campaign", str(campaign_id), "--json", *named]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"queued": 1}


def test_an_unknown_campaign_is_an_error() -> None:
    result = CliRunner().invoke(app, ["events", "list", "--campaign", str(uuid.uuid4())])
    assert result.exit_code == 2 and "campaign not found" in result.output
    result = CliRunner().invoke(app, ["events", "redeliver", "--campaign", "nope"])
    assert result.exit_code == 2
