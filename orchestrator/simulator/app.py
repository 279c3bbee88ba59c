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
* ``GET /phone-number``: Vapi's list, a bare JSON array of ``VapiPhoneNumber``, newest first,
  filtered by ``createdAt``/``updatedAt{Gt,Lt,Ge,Le}``; ``limit`` defaults to 100, at most
  1000. Every number a call named, and those it was started with (see ``phone_numbers``).
* ``GET /phone-number/{id}``: one number, or 404.
* ``/chat`` and ``/session``: Vapi's chat and session endpoints, texts by SMS included; see
  ``text_api``, ``chats`` and ``replies``.
* ``GET /simulator/stats``, ``POST /simulator/reset``, ``GET /healthz``: no auth.
* ``POST /simulator/forget`` (a test hook, no auth): ``{"ids": [...]}`` forgets those calls,
  ``{"inFlight": true}`` every call not ended yet, as if the provider had lost them: their
  timelines and webhooks stop, ``GET /call/{id}`` answers 404, ``GET /call`` omits them, their
  places in the in-flight counts are freed. Counters keep them (they were dialed); the stats'
  ``forgotten`` counts them. Answers ``{"forgotten": [ids]}`` with the ids that were known.

With a state dir (``SimulatorConfig.state_dir``, ``--state-dir``) every change is journaled
and a restarted simulator knows every call and counter of the previous runs; calls that were in
flight when it stopped are ended on start. File format, lock and ``--fresh``: see ``journal``.

``GET /call``, ``GET /call/{id}`` and the stats are the ground truth: every call that really
exists (including those whose create answer was a 5xx or never arrived) with its true status,
whatever webhooks were dropped; a call whose create failed without creating it is absent.

Errors use Vapi's NestJS shape ``{"statusCode", "error", "message"}``, where ``message`` is a
list for validation failures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from orchestrator.simulator.chats import TextEngine
from orchestrator.simulator.engine import CallEngine
from orchestrator.simulator.faults import CreateFault, decide_create
from orchestrator.simulator.http_errors import (
    ApiError,
    fault_response,
    hold,
    json_body,
    nest_error,
)
from orchestrator.simulator.phone_numbers import PhoneNumberQuery
from orchestrator.simulator.records import CallQuery
from orchestrator.simulator.state import SimulatorConfig, SimulatorState
from orchestrator.simulator.text_api import add_text_routes
from orchestrator.simulator.validation import parse_forget, validate_create
from orchestrator.simulator.webhook_client import WebhookClient

MAX_LIST_LIMIT = 1000


class Simulator:
    """What one simulator app owns: its config, its state and, while serving, its engine."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.state = SimulatorState(config)
        self._engine: CallEngine | None = None
        self._texts: TextEngine | None = None
        self._http: WebhookClient | None = None

    @property
    def engine(self) -> CallEngine:
        if self._engine is None:
            raise RuntimeError("the simulator engine runs only inside the app's lifespan")
        return self._engine

    @property
    def texts(self) -> TextEngine:
        if self._texts is None:
            raise RuntimeError("the simulator's texts run only inside the app's lifespan")
        return self._texts

    async def start(self) -> None:
        self._http = WebhookClient(timeout=self.config.webhook_timeout_seconds)
        self._engine = CallEngine(self.state, self.config, self._http)
        self._texts = TextEngine(self.state, self.config, self._http, self._engine.spawn)
        for cut in self.state.take_interrupted():
            self._engine.finish(cut)

    async def stop(self) -> None:
        try:
            if self._engine is not None:
                await self._engine.cancel_all()
            if self._http is not None:
                await self._http.aclose()
        finally:
            self.state.close()

    async def reset(self) -> None:
        await self.engine.cancel_all()
        await self.state.reset()
        await self.texts.reset()

    async def forget(self, ids: list[str] | None, *, in_flight: bool) -> list[str]:
        forgotten = await self.state.forget(ids, in_flight=in_flight)
        await self.engine.forget(forgotten)
        return forgotten


# The dependencies are coroutines: FastAPI runs plain functions on a thread, a hop per request.
async def get_simulator(request: Request) -> Simulator:
    simulator = request.app.state.simulator
    assert isinstance(simulator, Simulator)
    return simulator


async def require_bearer(authorization: Annotated[str | None, Header()] = None) -> None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Missing or invalid bearer token in the Authorization header.")


SimulatorDep = Annotated[Simulator, Depends(get_simulator)]


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


async def create_call(request: Request, simulator: SimulatorDep) -> JSONResponse:
    body = await json_body(request)
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
        return fault_response(decision, config.faults.retry_after)
    record = await state.create_call(body, request_index=index)
    simulator.engine.start(record)
    if decision.fault is CreateFault.SERVER_ERROR_CREATED:
        return fault_response(decision, config.faults.retry_after)
    if decision.fault is CreateFault.TIMEOUT:
        await hold(request, config.faults.timeout_hold)
    return JSONResponse(record.to_json(), status_code=201)


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


async def list_phone_numbers(
    query: Annotated[PhoneNumberQuery, Query()], simulator: SimulatorDep
) -> list[dict[str, Any]]:
    return await simulator.state.list_phone_numbers(query)


async def get_phone_number(phone_number_id: str, simulator: SimulatorDep) -> dict[str, Any]:
    found = await simulator.state.get_phone_number(phone_number_id)
    if found is None:
        raise ApiError(404, f"Phone number {phone_number_id} not found.")
    return found


async def get_stats(simulator: SimulatorDep) -> dict[str, Any]:
    stats = await simulator.state.stats()
    stats["texts"] = await simulator.texts.stats()
    return stats


async def reset(simulator: SimulatorDep) -> dict[str, str]:
    await simulator.reset()
    return {"status": "ok"}


async def forget(request: Request, simulator: SimulatorDep) -> dict[str, list[str]]:
    body = await json_body(request)
    ids, errors = parse_forget(body)
    if errors:
        raise ApiError(400, errors)
    return {"forgotten": await simulator.forget(ids, in_flight=ids is None)}


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
    app.add_api_route("/phone-number", list_phone_numbers, methods=["GET"], dependencies=authed)
    app.add_api_route(
        "/phone-number/{phone_number_id}", get_phone_number, methods=["GET"], dependencies=authed
    )
    add_text_routes(app, authed)
    app.add_api_route("/simulator/stats", get_stats, methods=["GET"])
    app.add_api_route("/simulator/reset", reset, methods=["POST"])
    app.add_api_route("/simulator/forget", forget, methods=["POST"])
    app.add_api_route("/healthz", healthz, methods=["GET"])
    _install_error_handlers(app)
    return app
