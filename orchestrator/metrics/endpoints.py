"""``GET /metrics`` in Prometheus's text format (no API key: scrape it from the private network)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from orchestrator.db import SessionDep
from orchestrator.metrics.gauges import (
    Backlog,
    CallsInFlight,
    CallsInFlightByNumber,
    CampaignEventsPending,
)
from orchestrator.metrics.histograms import RedisHistograms
from orchestrator.metrics.progress import CampaignProgress
from orchestrator.metrics.service import RedisCounters

router = APIRouter(tags=["Metrics"])


def _registry(session: SessionDep) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RedisCounters())
    registry.register(CallsInFlight(session))
    registry.register(RedisHistograms())
    registry.register(CampaignEventsPending(session))
    registry.register(CallsInFlightByNumber(session))
    registry.register(Backlog(session))
    registry.register(CampaignProgress(session))
    return registry


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(session: SessionDep) -> Response:
    return Response(generate_latest(_registry(session)), media_type=CONTENT_TYPE_LATEST)
