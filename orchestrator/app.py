"""The FastAPI application: routers, one error handler in Vapi's shape, health."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from orchestrator import __version__
from orchestrator.api import api_router
from orchestrator.config import get_settings
from orchestrator.db import session_scope
from orchestrator.exceptions import DomainError, error_body
from orchestrator.webhooks.endpoints import VapiWebhookEndpoint, redispatcher
from orchestrator.webhooks.intake import WebhookIntake
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


def create_app() -> FastAPI:
    app = FastAPI(
        title="Outbound campaign orchestrator",
        version=__version__,
        description="Vapi-compatible campaign API with local-time pacing and exact counters.",
    )
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.include_router(api_router)
    app.add_middleware(VapiWebhookEndpoint)
    app.state.webhook_intake = WebhookIntake(
        session_scope, mode=get_settings().webhook_apply_mode, on_freed=redispatcher.request
    )

    @app.get("/healthz", tags=["Health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
