"""``orchestrator campaign events ID``: deliveries listed, the failed ones, and redelivery."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import update
from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.models import OutboxEvent
from orchestrator.orgs.service import CreatedOrg
from tests.console.conftest import Cli
from tests.factories import dispatch_campaign
from tests.factories.events import server_campaign


def _campaign_with_failures(session: Session, org: CreatedOrg) -> tuple[str, list[str]]:
    campaign_id = server_campaign(session, org=org, customers=3)
    dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=50)
    failed = session.scalars(
        update(OutboxEvent)
        .where(
            OutboxEvent.campaign_id == campaign_id, OutboxEvent.event_type == "contact.dispatched"
        )
        .values(status="failed", attempts=4, last_error="answered 502")
        .returning(OutboxEvent.id)
    ).all()
    session.flush()
    return str(campaign_id), sorted(str(event_id) for event_id in failed)


def test_events_are_listed_and_the_failed_ones_shown_alone(
    cli: Cli, session: Session, org: CreatedOrg
) -> None:
    campaign_id, failed = _campaign_with_failures(session, org)

    shown = cli("campaign", "events", campaign_id)
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0].split() == [
        "id",
        "event",
        "status",
        "attempts",
        "occurred",
        "delivered",
        "last",
        "error",
    ]
    assert [line.split()[1:3] for line in lines[1:]] == [["campaign.started", "pending"]] + [
        ["contact.dispatched", "failed"]
    ] * 3
    assert lines[2].endswith("answered 502")

    only_failed = cli("campaign", "events", campaign_id, "--failed")
    assert sorted(line.split()[0] for line in only_failed.stdout.splitlines()[1:]) == failed
    as_json = json.loads(cli("campaign", "events", campaign_id, "--failed", "--json").stdout)
    assert as_json["metadata"]["totalItems"] == 3


def test_redeliver_sends_the_named_events_or_every_failed_one(
    cli: Cli, session: Session, org: CreatedOrg
) -> None:
    campaign_id, failed = _campaign_with_failures(session, org)

    named = cli("campaign", "events", campaign_id, "--redeliver", "--event", failed[0])
    assert (named.exit_code, named.stdout) == (0, "1 events queued for delivery\n")
    rest = cli("campaign", "events", campaign_id, "--redeliver")
    assert (rest.exit_code, rest.stdout) == (0, "2 events queued for delivery\n")
    assert cli("campaign", "events", campaign_id, "--failed").stdout.splitlines()[1:] == []

    unknown = cli("campaign", "events", campaign_id, "--event", str(uuid.uuid4()))
    assert (unknown.exit_code, unknown.stdout) == (0, "0 events queued for delivery\n")
    invalid = cli("campaign", "events", campaign_id, "--event", "not-an-id")
    assert invalid.exit_code == 1
    assert invalid.stderr.startswith("error: ")
