"""``POST /webhooks/vapi``: authenticated by the shared secret we gave the provider."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from starlette.concurrency import run_in_threadpool

from orchestrator.config import get_settings
from orchestrator.db import session_scope
from orchestrator.exceptions import PayloadTooLarge, ValidationFailed
from orchestrator.webhooks.service import ingest_message, verify_shared_secret
from workers.tasks import enqueue_dispatch

logger = logging.getLogger(__name__)
router = APIRouter(tags=["Webhooks"])

MAX_BODY_BYTES = 1_000_000


async def _read_json(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge("Webhook body too large")
    try:
        payload = json.loads(body)
    except ValueError:
        raise ValidationFailed(["body must be valid JSON"]) from None
    if not isinstance(payload, dict):
        raise ValidationFailed(["body must be a JSON object"])
    return payload


def _store_and_apply(payload: dict[str, Any]) -> uuid.UUID | None:
    """Commit the event and its effects; the event is stored before we answer 2xx."""
    with session_scope() as session:
        result = ingest_message(session, payload=payload)
    return result.freed_campaign_id


def _redispatch(campaign_id: uuid.UUID) -> None:
    """Capacity freed by an ended call is reused at once instead of at the next tick."""
    try:
        enqueue_dispatch(campaign_id)
    except Exception:  # a failed enqueue only delays: the next tick dispatches anyway
        logger.warning("could not enqueue dispatch for campaign %s", campaign_id, exc_info=True)


@router.post("/webhooks/vapi")
async def receive_vapi_webhook(request: Request, background: BackgroundTasks) -> dict[str, str]:
    settings = get_settings()
    verify_shared_secret(
        request.headers.get(settings.webhook_secret_header), settings.webhook_secret
    )
    payload = await _read_json(request)
    freed = await run_in_threadpool(_store_and_apply, payload)
    if freed is not None:
        background.add_task(_redispatch, freed)
    return {"status": "ok"}
