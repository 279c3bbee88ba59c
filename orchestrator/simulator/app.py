"""The simulator's HTTP API: Vapi's call endpoints plus a few ``/simulator`` test hooks.

* ``POST /call``: bearer auth; validates a CreateCallDTO subset and answers 201 with a queued
  Call, then plays it (see ``engine``). Over the concurrency limit the call is still created but
  ends at once with ``call.start.error-subscription-concurrency-limit-reached``. Configured
  create faults (429, 5xx with or without the call, a held answer) apply to valid requests
  only; see ``faults``.
* ``GET /call``: Vapi's list, a bare JSON array, newest first (``sortOrder=ASC`` reverses),
  filtered by ``id``, ``phoneNumberId``, ``assistantId``, ``createdAt{Gt,Lt,Ge,Le}``; ``limit``
  defaults to 100, at most 1000.
* ``GET /call/{id}``: one call, or 404.
* ``GET /simulator/stats``, ``POST /simulator/reset``, ``GET /healthz``: no auth.

``GET /call``, ``GET /call/{id}`` and the stats are the ground truth: every call that really
exists (including those whose create answer was a 5xx or never arrived) with its true status,
whatever webhooks were dropped; a call whose create failed without creating it is absent.

Errors use Vapi's NestJS shape ``{"statusCode", "error", "message"}``, where ``message`` is a
list for validation failures.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any, Literal

import httpx
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from orchestrator.simulator.engine import CallEngine
from orchestrator.simulator.faults import CreateDecision, CreateFault, decide_create
from orchestrator.simulator.state import CallQuery, SimulatorConfig, SimulatorState

CALL_TARGETS = ("assistantId", "assistant", "squadId", "squad", "workflowId", "workflow")
MAX_LIST_LIMIT = 1000
# How often a held create answer checks whether its client has hung up.
HOLD_POLL_SECONDS = 0.05


class ApiError(Exception):
    def __init__(self, status_code: int, message: str | list[str]) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def nest_error(status_code: int, message: str | list[str]) -> JSONResponse:
    body = {"statusCode": status_code, "error": HTTPStatus(status_code).phrase, "message": message}
    return JSONResponse(body, status_code=status_code)


class Simulator:
    """What one simulator app owns: its config, its state and, while serving, its engine."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.state = SimulatorState(config)
        self._engine: CallEngine | None = None
        self._http: httpx.AsyncClient | None = None

    @property
    def engine(self) -> CallEngine:
        if self._engine is None:
            raise RuntimeError("the simulator engine runs only inside the app's lifespan")
        return self._engine

    async def start(self) -> None:
        # trust_env=False: webhook targets are explicit URLs, never meant to go via a proxy.
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(self.config.webhook_timeout_seconds, pool=None),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            trust_env=False,
        )
        self._engine = CallEngine(self.state, self.config, self._http)

    async def stop(self) -> None:
        if self._engine is not None:
            await self._engine.cancel_all()
        if self._http is not None:
            await self._http.aclose()

    async def reset(self) -> None:
        await self.engine.cancel_all()
        await self.state.reset()


def get_simulator(request: Request) -> Simulator:
    simulator = request.app.state.simulator
    assert isinstance(simulator, Simulator)
    return simulator


def require_bearer(authorization: Annotated[str | None, Header()] = None) -> None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Missing or invalid bearer token in the Authorization header.")


SimulatorDep = Annotated[Simulator, Depends(get_simulator)]


def validate_create(body: Any) -> list[str]:
    """The subset of Vapi's CreateCallDTO rules the orchestrator could trip over."""
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    errors: list[str] = []
    customer = body.get("customer")
    number = customer.get("number") if isinstance(customer, dict) else None
    if not isinstance(number, str) or not number.strip():
        errors.append("customer.number must be a non-empty string")
    phone_number_id = body.get("phoneNumberId")
    if not isinstance(phone_number_id, str) or not phone_number_id.strip():
        errors.append("phoneNumberId must be a non-empty string")
    if sum(body.get(key) is not None for key in CALL_TARGETS) != 1:
        errors.append(f"exactly one of {', '.join(CALL_TARGETS)} must be provided")
    if body.get("customers") is not None:
        errors.append("customers (batch calls) is not supported by the simulator")
    errors.extend(_overrides_errors(body.get("assistantOverrides")))
    return errors


def _overrides_errors(overrides: Any) -> list[str]:
    if overrides is None:
        return []
    if not isinstance(overrides, dict):
        return ["assistantOverrides must be an object"]
    server = overrides.get("server")
    if server is None:
        return []
    if not isinstance(server, dict):
        return ["assistantOverrides.server must be an object"]
    errors: list[str] = []
    if not isinstance(server.get("url"), str):
        errors.append("assistantOverrides.server.url must be a string")
    headers = server.get("headers")
    if headers is not None and not (
        isinstance(headers, dict) and all(isinstance(v, str) for v in headers.values())
    ):
        errors.append("assistantOverrides.server.headers must be an object of strings")
    return errors


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


async def create_call(request: Request, simulator: SimulatorDep) -> JSONResponse:
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, ["body must be valid JSON"]) from None
    errors = validate_create(body)
    if errors:
        raise ApiError(400, errors)
    state, config = simulator.state, simulator.config
    number = str(body["customer"]["number"])
    index = await state.next_request_index(number)
    decision = decide_create(config.faults, seed=config.seed, number=number, request_index=index)
    if decision.fault is not CreateFault.NONE:
        await state.count_fault(decision.fault.value)
    if not decision.fault.creates:
        return _fault_response(decision, config.faults.retry_after)
    record = await state.create_call(body, request_index=index)
    simulator.engine.start(record)
    if decision.fault is CreateFault.SERVER_ERROR_CREATED:
        return _fault_response(decision, config.faults.retry_after)
    if decision.fault is CreateFault.TIMEOUT:
        await _hold(request, config.faults.timeout_hold)
    return JSONResponse(record.to_json(), status_code=201)


def _fault_response(decision: CreateDecision, retry_after: int) -> JSONResponse:
    if decision.status_code == 429:
        response = nest_error(429, "Rate limit exceeded (simulated fault).")
        response.headers["Retry-After"] = str(retry_after)
        return response
    return nest_error(decision.status_code, "Internal error (simulated fault).")


async def _hold(request: Request, seconds: float) -> None:
    """Sit on a create answer until ``seconds`` pass or the client hangs up.

    Returning once the client is gone lets a shutdown proceed instead of waiting out the hold.
    """
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        if await request.is_disconnected():
            return
        await asyncio.sleep(min(HOLD_POLL_SECONDS, remaining))


async def list_calls(
    simulator: SimulatorDep,
    call_id: Annotated[str | None, Query(alias="id")] = None,
    phone_number_id: Annotated[str | None, Query(alias="phoneNumberId")] = None,
    assistant_id: Annotated[str | None, Query(alias="assistantId")] = None,
    created_at_gt: Annotated[datetime | None, Query(alias="createdAtGt")] = None,
    created_at_lt: Annotated[datetime | None, Query(alias="createdAtLt")] = None,
    created_at_ge: Annotated[datetime | None, Query(alias="createdAtGe")] = None,
    created_at_le: Annotated[datetime | None, Query(alias="createdAtLe")] = None,
    limit: Annotated[int, Query(ge=0, le=MAX_LIST_LIMIT)] = 100,
    sort_order: Annotated[Literal["ASC", "DESC"], Query(alias="sortOrder")] = "DESC",
) -> list[dict[str, Any]]:
    query = CallQuery(
        id=call_id,
        phone_number_id=phone_number_id,
        assistant_id=assistant_id,
        created_at_gt=_utc(created_at_gt),
        created_at_lt=_utc(created_at_lt),
        created_at_ge=_utc(created_at_ge),
        created_at_le=_utc(created_at_le),
        limit=limit,
        newest_first=sort_order == "DESC",
    )
    return await simulator.state.list_calls(query)


async def get_call(call_id: str, simulator: SimulatorDep) -> dict[str, Any]:
    call = await simulator.state.get_call(call_id)
    if call is None:
        raise ApiError(404, f"Call {call_id} not found.")
    return call


async def get_stats(simulator: SimulatorDep) -> dict[str, Any]:
    return await simulator.state.stats()


async def reset(simulator: SimulatorDep) -> dict[str, str]:
    await simulator.reset()
    return {"status": "ok"}


async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _install_error_handlers(app: FastAPI) -> None:
    async def on_api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return nest_error(exc.status_code, exc.message)

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        messages = [
            f"{'.'.join(str(p) for p in error['loc'][1:])} {error['msg']}" for error in exc.errors()
        ]
        return nest_error(400, messages)

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return nest_error(exc.status_code, str(exc.detail))

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


def create_simulator_app(config: SimulatorConfig) -> FastAPI:
    simulator = Simulator(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await simulator.start()
        try:
            yield
        finally:
            await simulator.stop()

    app = FastAPI(title="Vapi-compatible provider simulator", lifespan=lifespan)
    app.state.simulator = simulator
    authed = [Depends(require_bearer)]
    app.add_api_route("/call", create_call, methods=["POST"], dependencies=authed)
    app.add_api_route("/call", list_calls, methods=["GET"], dependencies=authed)
    app.add_api_route("/call/{call_id}", get_call, methods=["GET"], dependencies=authed)
    app.add_api_route("/simulator/stats", get_stats, methods=["GET"])
    app.add_api_route("/simulator/reset", reset, methods=["POST"])
    app.add_api_route("/healthz", healthz, methods=["GET"])
    _install_error_handlers(app)
    return app
