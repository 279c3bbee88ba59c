"""``POST /webhooks/vapi``: authenticated as configured (shared secret, bearer token or HMAC).

A request is refused, and nothing stored, unless it passes in this order: the credentials
the headers carry (an HMAC timestamp too), the size (by Content-Length before reading, then
while reading), the HMAC signature over the raw bytes, and the JSON. Each refusal is counted
in ``orchestrator_webhooks_rejected`` by reason. An accepted message is answered once it is
stored (``intake``).

The endpoint is served by ``serve_vapi_webhook``, which the app calls before its middleware
and routes: a provider sends one request per message, thousands a second under load, and
this path skips the machinery the rest of the API uses.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from orchestrator.config import get_settings
from orchestrator.enqueue import task_queue
from orchestrator.exceptions import (
    VAPI_ERROR_NAME,
    DomainError,
    PayloadTooLarge,
    ValidationFailed,
    error_body,
)
from orchestrator.flows.apply_webhooks import applier_redis, request_applier
from orchestrator.metrics.service import count
from orchestrator.webhooks import auth
from orchestrator.webhooks.intake import WebhookIntake
from orchestrator.webhooks.messages import new_event
from orchestrator.webhooks.redispatch import Coalescer

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
TOO_LARGE = "too-large"
MALFORMED_JSON = "malformed-json"
_OK = b'{"status":"ok"}'
APPLY_COALESCE_SECONDS = 0.05


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{VAPI_ERROR_NAME}"}}
        },
    }


# How ``/openapi.json`` documents this endpoint: it is served ahead of FastAPI's routing.
WEBHOOK_OPENAPI: dict[str, Any] = {
    "post": {
        "tags": ["Webhooks"],
        "summary": "Receive a provider webhook",
        "operationId": "receive_vapi_webhook",
        "description": (
            "Where the provider posts its server messages (`status-update`, "
            "`end-of-call-report`, ...). Authenticated as `ORCH_WEBHOOK_AUTH_MODE` says: a "
            "shared-secret header (`X-Vapi-Secret` by default), `Authorization: Bearer`, or an "
            "HMAC signature with a timestamp (`x-signature`, `x-timestamp`). Answered 200 once "
            "the message is stored; it is applied right after. Messages of unknown types are "
            "stored and ignored."
        ),
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["message"],
                        "properties": {
                            "message": {
                                "type": "object",
                                "required": ["type"],
                                "properties": {"type": {"type": "string"}},
                            }
                        },
                    }
                }
            },
        },
        "responses": {
            "200": {
                "description": "Stored",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"status": {"type": "string", "enum": ["ok"]}},
                        }
                    }
                },
            },
            "400": _error_response("The body is not a JSON object"),
            "401": _error_response("Missing or wrong credentials, bad signature, stale timestamp"),
            "413": _error_response(f"The body is over {MAX_BODY_BYTES} bytes"),
            "500": _error_response("The message could not be stored; send it again"),
        },
    }
}


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
        payload = orjson.loads(body)
    except ValueError:  # orjson.JSONDecodeError is one
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


async def authenticated_body(request: Request) -> tuple[bytes, dict[str, Any]]:
    """The webhook's bytes and JSON, or a 4xx that is counted and logged (never a credential)."""
    settings = get_settings()
    try:
        auth.check_headers(request.headers, settings=settings)
        body = await read_raw_body(request)
        auth.check_body(request.headers, body, method=request.method, settings=settings)
        return body, parse_json_object(body)
    except DomainError as error:
        reason = _rejection_reason(error)
        count("orchestrator_webhooks_rejected", reason=reason)
        client = request.client.host if request.client else "unknown"
        logger.warning("webhook refused (%s) from %s", reason, client)
        raise


def _enqueue_dispatch(org_id: uuid.UUID) -> None:
    task_queue().dispatch_org(org_id)


def _enqueue_apply(_: None) -> None:
    request_applier(applier_redis(), task_queue().apply_webhooks)


# Capacity freed by an ended call is reused at once instead of at the next tick.
redispatcher: Coalescer[uuid.UUID] = Coalescer(_enqueue_dispatch)
# Stored webhooks are applied by the workers, one task for the batches of some milliseconds
# (an applier already at work takes them anyway, and a task costs the worker more than that).
apply_requests: Coalescer[None] = Coalescer(_enqueue_apply, delay=APPLY_COALESCE_SECONDS)


def request_apply() -> None:
    apply_requests.request(None)


def _as_text(body: bytes) -> str | None:
    try:
        return body.decode()
    except UnicodeDecodeError:  # JSON in another encoding: stored re-serialised instead
        return None


async def receive_vapi_webhook(request: Request, intake: WebhookIntake) -> None:
    """Authenticated, then stored (and so acknowledged) with the messages arriving with it."""
    body, payload = await authenticated_body(request)
    await intake.submit(new_event(payload, raw=_as_text(body)))


async def _answer(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _answer_error(send: Send, status: int, messages: list[str] | str) -> None:
    await _answer(send, status, json.dumps(error_body(status, messages)).encode())


async def serve_vapi_webhook(
    scope: Scope, receive: Receive, send: Send, *, intake: WebhookIntake
) -> None:
    """``POST /webhooks/vapi`` as a whole ASGI exchange: every answer is made here."""
    if scope["method"] != "POST":
        await _answer_error(send, 405, "Method Not Allowed")
        return
    try:
        await receive_vapi_webhook(Request(scope, receive), intake)
    except DomainError as error:
        await _answer(send, error.status_code, json.dumps(error.to_body()).encode())
        return
    except Exception:
        logger.exception("webhook not stored")
        await _answer_error(send, 500, "webhook not stored")
        return
    await _answer(send, 200, _OK)
