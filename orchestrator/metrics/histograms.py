"""Histograms every process observes into, kept in Redis like the counters.

One hash per histogram: a field per bucket bound (observations at or under it), ``+Inf``,
``sum`` and ``count``; served as a Prometheus histogram at scrape time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import redis
from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from orchestrator.metrics.service import KEY_PREFIX, redis_client

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HistogramSpec:
    name: str
    documentation: str
    bounds: tuple[float, ...]


HISTOGRAMS: dict[str, HistogramSpec] = {
    spec.name: spec
    for spec in (
        HistogramSpec(
            "orchestrator_campaign_event_delivery_seconds",
            "Time from a campaign event to its delivery to the campaign's server (retries "
            "included).",
            (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 3600.0, 86400.0),
        ),
    )
}


def _bound_field(bound: float) -> str:
    return str(float(bound))  # as Prometheus writes a bound: 0.25, 3600.0


def observe(name: str, *values: float) -> None:
    """Record observations in one round trip; lost (and logged) when Redis is unreachable."""
    spec = HISTOGRAMS[name]
    key = KEY_PREFIX + name
    if not values:
        return
    try:
        pipe = redis_client().pipeline(transaction=False)
        for bound in spec.bounds:
            under = sum(1 for value in values if value <= bound)
            if under:
                pipe.hincrby(key, _bound_field(bound), under)
        pipe.hincrby(key, "count", len(values))
        pipe.hincrbyfloat(key, "sum", sum(values))
        pipe.execute()
    except redis.RedisError as error:
        logger.warning("metric %s not observed: %s", name, error)


class RedisHistograms(Collector):
    def collect(self) -> Iterator[Metric]:
        for spec in HISTOGRAMS.values():
            try:
                raw = redis_client().hgetall(KEY_PREFIX + spec.name)
            except redis.RedisError as error:
                logger.warning("metric %s unreadable: %s", spec.name, error)
                raw = {}
            fields = {key.decode(): float(value) for key, value in raw.items()}
            total = fields.get("count", 0.0)
            buckets = [(_bound_field(b), fields.get(_bound_field(b), 0.0)) for b in spec.bounds]
            buckets.append(("+Inf", total))
            family = HistogramMetricFamily(spec.name, spec.documentation)
            family.add_metric([], buckets, sum_value=fields.get("sum", 0.0))
            yield family
