"""The periodic counter reconciliation, run inside the test's transaction."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from orchestrator.campaigns.counter_repository import counters_of
from orchestrator.clock import utcnow
from orchestrator.flows.reconcile_counters import reconcile_recent_campaigns
from orchestrator.models import Campaign, CampaignStatus
from orchestrator.orgs.service import CreatedOrg
from tests.factories import add_to_shard, make_campaign, unit_of


def test_the_periodic_job_covers_active_and_recently_ended_campaigns(
    session: Session, org: CreatedOrg
) -> None:
    now = utcnow()
    ids = [make_campaign(session, org=org, customers=2) for _ in range(3)]
    active, recent, old = ids
    for campaign_id in ids:
        add_to_shard(session, campaign_id=campaign_id, shard=5, contacts_skipped=1)
    for campaign_id, ended_at in (
        (recent, now - timedelta(minutes=10)),
        (old, now - timedelta(hours=2)),
    ):
        session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(status=CampaignStatus.CANCELLED, ended_at=ended_at)
        )

    run = reconcile_recent_campaigns(now=now, batch_size=1, unit_of_work=unit_of(session))

    assert {active, recent} <= set(run.drifted)
    assert old not in run.drifted
    assert run.drifted[active] == {"contacts_skipped": 1}
    assert run.failed == []
    counters = counters_of(session, campaign_ids=ids)
    assert counters[active].contacts_skipped == 0
    assert counters[recent].contacts_skipped == 0
    assert counters[old].contacts_skipped == 1
    campaign = session.get(Campaign, old, populate_existing=True)
    assert campaign is not None and campaign.status == CampaignStatus.CANCELLED


def test_the_reconcile_task_runs_every_interval() -> None:
    from workers.celery_app import celery_app
    from workers.tasks import reconcile_campaigns_task

    entry = celery_app.conf.beat_schedule["campaign-reconcile"]
    assert entry["task"] == reconcile_campaigns_task.name == "campaigns.reconcile"
    assert entry["schedule"] == 60.0
