"""``POST /webhooks/vapi``: authenticated as configured (shared secret, bearer token or HMAC).

A request is refused, and nothing stored, unless it passes in this order: the credentials
the headers carry (an HMAC timestamp too), the size (by Content-Length before reading, then
while reading), the HMAC signature over the raw bytes, and the JSON. Each refusal is counted
in ``orchestrator_webhooks_rejected`` by reason.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request

from orchestrator.config import get_settings
from orchestrator.exceptions import DomainError, PayloadTooLarge, ValidationFailed
from orchestrator.metrics.service import count
from orchestrator.orgs.auth import UnitOfWork, UnitOfWorkDep
from orchestrator.webhooks import auth
from orchestrator.webhooks.redispatch import OrgRedispatcher
from orchestrator.webhooks.service import IngestResult, ingest_message
from workers.tasks import enqueue_org_dispatch

logger = logging.getLogger(__name__)
router = APIRouter(tags=["Webhooks"])

MAX_BODY_BYTES = 1_000_000
# Worker threads applying webhooks at once. Each one's work is mostly Python (under the GIL)
# between short database round trips: a few threads keep the database busy, and more only
# contend for the GIL (measured with ``python -m ops.bench.webhook_ingest``: 4 beats 2 and 8).
INGEST_THREADS = 4
TOO_LARGE = "too-large"
MALFORMED_JSON = "malformed-json"


async def read_raw_body(request: Request, *, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body as received, refused without being read whole when it is too large."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge("Webhook body too large")
    # Content-Length may be absent (chunked) or wrong: the limit holds while reading too.
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge("Webhook body too large")
    return bytes(body)


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError:
        raise ValidationFailed(["body must be valid JSON"]) from None
    if not isinstance(payload, dict):
        raise ValidationFailed(["body must be a JSON object"])
    return payload


def _rejection_reason(error: DomainError) -> str:
    if isinstance(error, auth.WebhookRejected):
        return error.reason
    if isinstance(error, PayloadTooLarge):
        return TOO_LARGE
    return MALFORMED_JSON


async def authenticated_payload(request: Request) -> dict[str, Any]:
    """The webhook's JSON, or a 4xx that is counted and logged (never with a credential)."""
    settings = get_settings()
    try:
        auth.check_headers(request.headers, settings=settings)
        body = await read_raw_body(request)
        auth.check_body(request.headers, body, method=request.method, settings=settings)
        return parse_json_object(body)
    except DomainError as error:
        reason = _rejection_reason(error)
        count("orchestrator_webhooks_rejected", reason=reason)
        client = request.client.host if request.client else "unknown"
        logger.warning("webhook refused (%s) from %s", reason, client)
        raise


def _enqueue_dispatch(org_id: uuid.UUID) -> None:
    enqueue_org_dispatch(org_id)


# Capacity freed by an ended call is reused at once instead of at the next tick.
redispatcher = OrgRedispatcher(_enqueue_dispatch)


@functools.cache
def _ingest_limiter() -> anyio.CapacityLimiter:
    # Made on first use, inside the running event loop (anyio requires one).
    return anyio.CapacityLimiter(INGEST_THREADS)


def ingest_committed(unit_of_work: UnitOfWork, payload: dict[str, Any]) -> IngestResult:
    """Store and apply one message in a transaction of its own, committed on return."""
    with unit_of_work() as session:
        return ingest_message(session, payload=payload)


@router.post("/webhooks/vapi")
async def receive_vapi_webhook(request: Request, unit_of_work: UnitOfWorkDep) -> dict[str, str]:
    """Stored and applied in one transaction, committed before the 2xx."""
    payload = await authenticated_payload(request)
    result = await anyio.to_thread.run_sync(
        ingest_committed, unit_of_work, payload, limiter=_ingest_limiter()
    )
    if result.freed_org_id is not None:
        redispatcher.request(result.freed_org_id)
    return {"status": "ok"}
