"""The FastAPI application: routers, one error handler in Vapi's shape, health."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from orchestrator import __version__
from orchestrator.api import api_router
from orchestrator.calls.recovery import note_api_start
from orchestrator.clock import utcnow
from orchestrator.config import Settings, get_settings
from orchestrator.db import session_scope
from orchestrator.docs_pages import add_offline_docs
from orchestrator.enqueue import task_queue
from orchestrator.exceptions import DomainError, error_body
from orchestrator.flows.apply_webhooks import InlineStore
from orchestrator.gc_tuning import tune_collector
from orchestrator.log_volume import quiet_http_client_lines, quiet_webhook_access_log
from orchestrator.providers.webhook_server import WEBHOOK_PATH
from orchestrator.safety import refuse_unsafe_settings
from orchestrator.webhooks.endpoints import (
    WEBHOOK_OPENAPI,
    apply_requests,
    redispatcher,
    request_apply,
    serve_vapi_webhook,
)
from orchestrator.webhooks.intake import BatchStore, ConnectionStore, WebhookIntake
from orchestrator.wire import nest_messages

logger = logging.getLogger(__name__)


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse(exc.to_body(), status_code=exc.status_code)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(error_body(400, nest_messages(exc.errors())), status_code=400)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(error_body(exc.status_code, [str(exc.detail)]), status_code=exc.status_code)


BEARER = "apiKey"


class Health(BaseModel):
    status: Literal["ok"]


class OrchestratorApp(FastAPI):
    """The API, with provider webhooks served ahead of the middleware and routes."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == WEBHOOK_PATH:
            await serve_vapi_webhook(scope, receive, send, intake=self.state.webhook_intake)
            return
        await super().__call__(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is not None:
            return self.openapi_schema
        schema = super().openapi()
        components = schema.setdefault("components", {})
        _answer_invalid_requests_with_400(schema["paths"], components.setdefault("schemas", {}))
        _require_the_api_key(schema["paths"], components)
        schema["paths"][WEBHOOK_PATH] = WEBHOOK_OPENAPI
        return schema


def _operations(paths: dict[str, Any]) -> list[dict[str, Any]]:
    return [operation for item in paths.values() for operation in item.values()]


def _answer_invalid_requests_with_400(paths: dict[str, Any], schemas: dict[str, Any]) -> None:
    """FastAPI documents a 422 for every route with parameters; ours answer 400 (each route
    lists it), in Vapi's shape."""
    for operation in _operations(paths):
        operation["responses"].pop("422", None)
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)


def _require_the_api_key(paths: dict[str, Any], components: dict[str, Any]) -> None:
    """The routes that can answer 401 are the ones that take the org's API key."""
    components["securitySchemes"] = {BEARER: {"type": "http", "scheme": "bearer"}}
    for operation in _operations(paths):
        if "401" in operation["responses"]:
            operation["security"] = [{BEARER: []}]


def webhook_intake(settings: Settings) -> WebhookIntake:
    store: BatchStore
    if settings.webhook_apply_mode == "inline":
        store = InlineStore(session_scope)
    else:
        store = ConnectionStore(settings.database_url)
    return WebhookIntake(store, on_stored=request_apply, on_freed=redispatcher.request)


def recover_after_start() -> None:
    """No API listened before this process started: the provider's webhooks sent meanwhile
    are lost, so every call it has is asked about now rather than after its silence."""
    try:
        with session_scope() as session:
            due = note_api_start(session, now=utcnow())
        if due:
            task_queue().recover_calls()
    except Exception:
        logger.exception("calls in flight could not be marked for lookup; the sweep will find them")
        return
    logger.info("API started: %d calls in flight will be looked up at the provider", due)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    if getattr(app.state, "recover_on_start", False):
        await anyio.to_thread.run_sync(recover_after_start)
    yield
    # What was accepted is stored, and its follow-up work enqueued, before the process ends.
    await app.state.webhook_intake.close()
    await apply_requests.drain()
    await redispatcher.drain()


def create_app() -> OrchestratorApp:
    app = OrchestratorApp(
        title="Outbound campaign orchestrator",
        version=__version__,
        description="Vapi-compatible campaign API with local-time pacing and exact counters.",
        lifespan=_lifespan,
        docs_url=None,
        redoc_url=None,
    )
    add_offline_docs(app)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.include_router(api_router)
    app.state.webhook_intake = webhook_intake(get_settings())

    @app.get("/healthz", tags=["Health"], response_model=Health)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def create_served_app() -> OrchestratorApp:
    """The app as ``orchestrator api`` serves it, in a process of its own."""
    refuse_unsafe_settings(get_settings())
    app = create_app()
    app.state.recover_on_start = True
    tune_collector()
    quiet_webhook_access_log()
    quiet_http_client_lines()
    return app
