"""Campaign progress at ``/metrics``: each active campaign's contacts by status, from its
counters, moving as its contacts do, gone when it ends, and bounded to the latest campaigns."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.contacts.states import ContactStatus
from orchestrator.metrics.progress import CampaignProgress
from orchestrator.models import CampaignStatus
from orchestrator.orgs.service import CreatedOrg
from tests.factories import dispatch_campaign, force_campaign, make_campaign
from tests.support.metrics import scrape

CONTACTS = "orchestrator_campaign_contacts"


def test_an_active_campaigns_contacts_are_served_by_status_as_they_move(
    api: TestClient, session: Session, org: CreatedOrg
) -> None:
    campaign_id = make_campaign(session, org=org, customers=3, name="Metrics progress")
    series = scrape(api).series(CONTACTS, campaign=str(campaign_id))
    by_status = {labels["status"]: value for labels, value in series}
    assert by_status == {str(status): 0.0 for status in ContactStatus} | {"pending": 3.0}
    (labels, _) = series[0]
    assert (labels["name"], labels["org"]) == ("Metrics progress", str(org.org_id))
    dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=1)
    page = scrape(api)
    assert (
        page.value(
            CONTACTS,
            campaign=str(campaign_id),
            name="Metrics progress",
            org=str(org.org_id),
            campaign_status=CampaignStatus.IN_PROGRESS,
            status="dispatched",
        )
        == 1
    )
    assert sum(v for _, v in page.series(CONTACTS, campaign=str(campaign_id))) == 3
    force_campaign(session, campaign_id=str(campaign_id), status=CampaignStatus.ENDED)
    assert scrape(api).series(CONTACTS, campaign=str(campaign_id)) == []


def test_only_the_latest_active_campaigns_have_series_and_all_are_counted(
    session: Session, org: CreatedOrg
) -> None:
    for _ in range(3):
        make_campaign(session, org=org, customers=1)
    contacts, active = CampaignProgress(session, max_campaigns=2).collect()
    campaigns = {sample.labels["campaign"] for sample in contacts.samples}
    assert len(campaigns) == 2
    assert len(contacts.samples) == 2 * len(ContactStatus)
    assert active.samples[0].value >= 3
