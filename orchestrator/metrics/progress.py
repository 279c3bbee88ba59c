"""Campaign progress read at scrape time: each active campaign's contacts by status, from its
counters (the sums of its shard rows), as the API answers them."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session

from orchestrator.campaigns.counter_repository import counters_of
from orchestrator.campaigns.counters import contacts_in
from orchestrator.campaigns.repository import active_campaigns
from orchestrator.contacts.states import ContactStatus

# Campaigns shown one by one (the latest created); a series per campaign and contact status.
MAX_CAMPAIGN_SERIES = 100


class CampaignProgress(Collector):
    """Contacts by status of the latest active campaigns (scheduled, in progress, paused), and
    how many campaigns are active in all. A campaign's series end when it does."""

    def __init__(self, session: Session, *, max_campaigns: int = MAX_CAMPAIGN_SERIES) -> None:
        self.session = session
        self.max_campaigns = max_campaigns

    def collect(self) -> Iterator[Metric]:
        campaigns, total = active_campaigns(self.session, limit=self.max_campaigns)
        counters = counters_of(self.session, campaign_ids=[row[0] for row in campaigns])
        family = GaugeMetricFamily(
            "orchestrator_campaign_contacts",
            f"Contacts of each active campaign (the latest {self.max_campaigns}) by status, "
            "from its counters.",
            labels=("campaign", "name", "org", "campaign_status", "status"),
        )
        for campaign_id, org_id, name, campaign_status in campaigns:
            for status in ContactStatus:
                family.add_metric(
                    [str(campaign_id), name, str(org_id), campaign_status, str(status)],
                    contacts_in(counters[campaign_id], status),
                )
        yield family
        yield GaugeMetricFamily(
            "orchestrator_campaigns_active",
            "Campaigns scheduled, in progress or paused (every org).",
            value=total,
        )
