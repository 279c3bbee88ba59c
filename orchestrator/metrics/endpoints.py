"""``GET /metrics`` in Prometheus's text format: open on a private network, or behind the
bearer token of ``ORCH_METRICS_TOKEN`` (not an org's API key: the series span every org)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from orchestrator.config import get_settings
from orchestrator.db import SessionDep
from orchestrator.exceptions import Unauthorized, json_error_responses
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


def _check_token(authorization: str | None) -> None:
    token = get_settings().metrics_token
    if not token:
        return
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise Unauthorized("Invalid metrics token (Authorization: Bearer <ORCH_METRICS_TOKEN>)")


@router.get("/metrics", response_class=PlainTextResponse, responses=json_error_responses(401))
def metrics(session: SessionDep, authorization: Annotated[str | None, Header()] = None) -> Response:
    _check_token(authorization)
    return Response(generate_latest(_registry(session)), media_type=CONTENT_TYPE_LATEST)
