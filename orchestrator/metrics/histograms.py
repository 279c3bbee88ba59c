"""Histograms every process observes into, kept in Redis like the counters.

One hash per histogram: a field per bucket bound (observations at or under it), ``+Inf``,
``sum`` and ``count``; served as a Prometheus histogram at scrape time.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import redis
from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from orchestrator.metrics.service import COUNTERS, KEY_PREFIX, counter_field, redis_client

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
        HistogramSpec(
            "orchestrator_call_create_seconds",
            "How long the provider took to answer a call create (POST /call), whatever it "
            "answered; a timeout counts its full wait.",
            (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
        ),
        HistogramSpec(
            "orchestrator_webhook_apply_lag_seconds",
            "Time from a provider webhook stored to its application to its call, session or "
            "text (a message parked until its call was known counts its wait).",
            (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0),
        ),
    )
}


def _bound_field(bound: float) -> str:
    return str(float(bound))  # as Prometheus writes a bound: 0.25, 3600.0


def _add_observations(
    pipe: redis.client.Pipeline[bytes], name: str, values: Sequence[float]
) -> None:
    spec = HISTOGRAMS[name]
    key = KEY_PREFIX + name
    ordered = sorted(values)
    for bound in spec.bounds:
        under = bisect_right(ordered, bound)
        if under:
            pipe.hincrby(key, _bound_field(bound), under)
    pipe.hincrby(key, "count", len(values))
    pipe.hincrbyfloat(key, "sum", sum(values))


def observe(name: str, *values: float) -> None:
    """Record observations in one round trip; lost (and logged) when Redis is unreachable."""
    if name not in HISTOGRAMS:
        raise KeyError(name)
    if not values:
        return
    try:
        pipe = redis_client().pipeline(transaction=False)
        _add_observations(pipe, name, values)
        pipe.execute()
    except redis.RedisError as error:
        logger.warning("metric %s not observed: %s", name, error)


def count_and_observe(counter: str, histogram: str, value: float, **labels: str) -> None:
    """Add one to a counter and observe ``value`` in a histogram, in one round trip: what a
    hot path (a call placed) can afford."""
    field = counter_field(COUNTERS[counter], labels)
    try:
        pipe = redis_client().pipeline(transaction=False)
        pipe.hincrbyfloat(KEY_PREFIX + counter, field, 1)
        _add_observations(pipe, histogram, (value,))
        pipe.execute()
    except redis.RedisError as error:
        logger.warning("metrics %s, %s not recorded: %s", counter, histogram, error)


def count_many_and_observe(
    counter: str,
    histogram: str,
    counts: Mapping[tuple[tuple[str, str], ...], int],
    values: Sequence[float],
) -> None:
    """``count_and_observe`` for many at once: ``counts`` by their labels (as item tuples),
    every value observed, in one round trip."""
    try:
        pipe = redis_client().pipeline(transaction=False)
        for labels, n in counts.items():
            pipe.hincrbyfloat(
                KEY_PREFIX + counter, counter_field(COUNTERS[counter], dict(labels)), n
            )
        _add_observations(pipe, histogram, values)
        pipe.execute()
    except redis.RedisError as error:
        logger.warning("metrics %s, %s not recorded: %s", counter, histogram, error)


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
