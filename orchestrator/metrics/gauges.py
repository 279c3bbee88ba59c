"""Gauges read from the database at scrape time: what is true now, not what was counted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session

from orchestrator.calls import lookup_repository
from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.events.repository import pending_count
from orchestrator.texts import repository as texts_repository
from orchestrator.webhooks import repository as webhooks_repository

# The caller numbers with calls in flight shown one by one; the rest are summed as "other".
MAX_NUMBER_SERIES = 200
# Upper bounds (seconds) of the age buckets of calls in flight; the last bucket is open.
AGE_BOUNDS = (60.0, 300.0, 900.0, 3600.0)


def age_labels(bounds: tuple[float, ...] = AGE_BOUNDS) -> list[str]:
    """``0-60s``, ``60-300s``, ... ``3600s+``."""
    lows = (0.0, *bounds)
    labels = [f"{low:.0f}-{high:.0f}s" for low, high in zip(lows, bounds, strict=False)]
    return [*labels, f"{bounds[-1]:.0f}s+"]


class CallsInFlight(Collector):
    """Calls holding capacity (every org), by age since dial, and those older than the longest
    a call can last at the provider (``max_call_seconds``): capacity that is likely stuck."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def collect(self) -> Iterator[Metric]:
        now = utcnow()
        by_age = lookup_repository.in_flight_by_age(self.session, now=now, bounds=AGE_BOUNDS)
        family = GaugeMetricFamily(
            "orchestrator_calls_in_flight",
            "Calls holding capacity now (claimed, dialing or at the provider), by time since "
            "they were dialed.",
            labels=("age",),
        )
        for index, label in enumerate(age_labels()):
            family.add_metric([label], by_age.get(index, 0))
        yield family
        longest = timedelta(seconds=get_settings().max_call_seconds)
        stale = lookup_repository.stale_in_flight(self.session, since_before=now - longest)
        stuck = sum(count for _, _, count in stale)
        yield GaugeMetricFamily(
            "orchestrator_calls_in_flight_over_max_length",
            "Calls in flight for longer than a call can last at the provider (max_call_seconds): "
            "their capacity is probably held by calls the provider has lost.",
            value=stuck,
        )


class CallsInFlightByNumber(Collector):
    """Calls in flight by org and caller number: the numbers with the most calls in flight,
    the rest summed under ``other`` (so the series stay bounded however many numbers exist).
    A number with nothing in flight has no series."""

    def __init__(self, session: Session, *, max_series: int = MAX_NUMBER_SERIES) -> None:
        self.session = session
        self.max_series = max_series

    def collect(self) -> Iterator[Metric]:
        groups = lookup_repository.in_flight_by_caller(self.session)
        family = GaugeMetricFamily(
            "orchestrator_calls_in_flight_by_number",
            "Calls holding capacity now, by org and caller number (phone_number_id; none for "
            f"calls without one); past the {self.max_series} busiest numbers, summed as other.",
            labels=("org", "phone_number_id"),
        )
        for org_id, number, calls in groups[: self.max_series]:
            family.add_metric([str(org_id), number or "none"], calls)
        rest = sum(calls for _, _, calls in groups[self.max_series :])
        if rest:
            family.add_metric(["other", "other"], rest)
        yield family


class Backlog(Collector):
    """Work stored and not done yet: provider webhooks not applied, texts not sent."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def collect(self) -> Iterator[Metric]:
        pending, oldest = webhooks_repository.pending_backlog(self.session)
        yield GaugeMetricFamily(
            "orchestrator_webhooks_pending",
            "Provider webhooks stored and not applied yet.",
            value=pending,
        )
        age = max((utcnow() - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "orchestrator_webhooks_pending_oldest_seconds",
            "How long the oldest provider webhook not applied yet has waited (0: none waits).",
            value=age,
        )
        texts = GaugeMetricFamily(
            "orchestrator_texts_waiting",
            "Outbound texts not sent yet, by delivery status: queued (waiting for their turn) "
            "or sending (being sent, or their create answer was lost and is looked up).",
            labels=("status",),
        )
        for status, count in texts_repository.waiting_texts(self.session).items():
            texts.add_metric([str(status)], count)
        yield texts


class CampaignEventsPending(Collector):
    """Campaign events not delivered yet (waiting, out for delivery or between retries)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "orchestrator_campaign_events_pending",
            "Campaign events recorded and not delivered yet (none failed for good).",
            value=pending_count(self.session),
        )
