"""Counters every process (API, workers, on any host) adds to, served together at ``/metrics``.

Each count lives in Redis (one hash per metric, one field per label set), so the API's
``/metrics`` shows what the workers counted too, without Prometheus's multi-process files.
Counting never fails the work it counts: when Redis is unreachable the count is logged and lost.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

import redis
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from orchestrator.config import get_settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "orch:metrics:"


@dataclass(frozen=True)
class CounterSpec:
    name: str
    documentation: str
    labels: tuple[str, ...] = ()


# Every counter the service exports; ``count`` refuses names not listed here.
COUNTERS: dict[str, CounterSpec] = {
    spec.name: spec
    for spec in (
        CounterSpec(
            "orchestrator_webhooks_rejected",
            "Provider webhooks refused before being stored (bad credentials, stale, malformed).",
            ("reason",),
        ),
        CounterSpec(
            "orchestrator_webhook_events",
            "Provider webhook events stored, by message type and what applying them did.",
            ("type", "outcome"),
        ),
        CounterSpec(
            "orchestrator_counter_drift",
            "Campaign counter drift found (and corrected) by reconciliation; should stay 0.",
            ("counter",),
        ),
        CounterSpec(
            "orchestrator_calls_recovered",
            "Calls whose outcome was learned from the provider instead of a webhook.",
            ("source",),
        ),
        CounterSpec(
            "orchestrator_ambiguous_creates",
            "Call creates whose answer was lost (timeout, 5xx): pending when it happened, then "
            "found or not-created when the provider was asked.",
            ("resolution",),
        ),
        CounterSpec(
            "orchestrator_ambiguous_text_creates",
            "Text creates whose answer was lost (timeout, 5xx): pending when it happened, then "
            "found or not-created when the provider's chats were listed.",
            ("resolution",),
        ),
        CounterSpec(
            "orchestrator_calls_provider_not_found",
            "Calls ended as provider-call-not-found: the provider answered 404 for a call it "
            "had acknowledged, twice, at least a minute apart.",
        ),
        CounterSpec(
            "orchestrator_provider_lookups",
            "Calls the recovery sweep asked the provider about, by kind (create: a create whose "
            "answer was lost; silent: a call with no news) and result (live, found, not-found, "
            "failed).",
            ("kind", "result"),
        ),
        CounterSpec(
            "orchestrator_campaign_events",
            "Campaign event deliveries to campaigns' servers, by outcome: delivered, retried "
            "(an attempt failed, another follows) or failed (no more retries).",
            ("outcome",),
        ),
        CounterSpec(
            "orchestrator_calls_correlated",
            "Calls whose provider id first came from a webhook's metadata: the webhook beat the "
            "create answer, or the answer was lost (a timeout or 5xx after the call was made).",
        ),
        CounterSpec(
            "orchestrator_call_creates",
            "Call creates sent to the provider (POST /call), by org and outcome: accepted, "
            "refused (a 4xx or 429: nothing made), unreachable (no connection: nothing made) or "
            "ambiguous (a timeout or 5xx: the call may exist). Its rate is the dial rate.",
            ("org", "outcome"),
        ),
        CounterSpec(
            "orchestrator_texts_sent",
            "Text creates sent to the provider (POST /chat), by outcome: accepted, refused, "
            "unreachable or ambiguous, as for calls.",
            ("outcome",),
        ),
        CounterSpec(
            "orchestrator_predial_checks",
            "Pre-dial checks answered, by verdict (eligible, not-eligible, error) and what it "
            "did (cleared, refused, failed, retry-later, ignored).",
            ("verdict", "outcome"),
        ),
    )
}


@lru_cache(maxsize=1)
def redis_client() -> redis.Redis[bytes]:
    return redis.Redis.from_url(
        get_settings().redis_url, socket_timeout=2, socket_connect_timeout=2
    )


def counter_field(spec: CounterSpec, labels: Mapping[str, str]) -> str:
    if set(labels) != set(spec.labels):
        raise ValueError(f"{spec.name} takes labels {spec.labels}, got {sorted(labels)}")
    return json.dumps([str(labels[name]) for name in spec.labels])


def count(name: str, amount: float = 1, **labels: str) -> None:
    """Add ``amount`` to counter ``name`` with these labels, for every process to see."""
    spec = COUNTERS[name]
    field = counter_field(spec, labels)
    try:
        redis_client().hincrbyfloat(KEY_PREFIX + name, field, amount)
    except redis.RedisError as error:
        logger.warning("metric %s%s not counted: %s", name, labels, error)


def counted(name: str, **labels: str) -> float:
    """The current total of one labelled counter (0 when never counted)."""
    spec = COUNTERS[name]
    value = redis_client().hget(KEY_PREFIX + name, counter_field(spec, labels))
    return float(value) if value is not None else 0.0


class RedisCounters(Collector):
    """Reads every counter from Redis at scrape time."""

    def collect(self) -> Iterator[Metric]:
        client = redis_client()
        for spec in COUNTERS.values():
            family = CounterMetricFamily(spec.name, spec.documentation, labels=spec.labels)
            try:
                fields = client.hgetall(KEY_PREFIX + spec.name)
            except redis.RedisError as error:
                logger.warning("metric %s unreadable: %s", spec.name, error)
                fields = {}
            for field, value in sorted(fields.items()):
                family.add_metric(json.loads(field), float(value))
            yield family
