"""Vapi's error answers and the held create answer, shared by the call and the text routes.

Errors use Vapi's NestJS shape ``{"statusCode", "error", "message"}``, where ``message`` is a
list for validation failures.
"""

from __future__ import annotations

import asyncio
import time
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from orchestrator.simulator.faults import CreateDecision

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


async def json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise ApiError(400, ["body must be valid JSON"]) from None


def fault_response(decision: CreateDecision, retry_after: int) -> JSONResponse:
    if decision.status_code == 429:
        response = nest_error(429, "Rate limit exceeded (simulated fault).")
        response.headers["Retry-After"] = str(retry_after)
        return response
    return nest_error(decision.status_code, "Internal error (simulated fault).")


async def hold(request: Request, seconds: float) -> None:
    """Sit on a create answer until ``seconds`` pass or the client hangs up.

    Returning once the client is gone lets a shutdown proceed instead of waiting out the hold.
    """
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        if await request.is_disconnected():
            return
        await asyncio.sleep(min(HOLD_POLL_SECONDS, remaining))
