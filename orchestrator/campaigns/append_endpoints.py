"""``POST /campaign/{id}/customers`` (extension), beside Vapi's v1 campaign endpoints.

The endpoint reads the body itself, a block at a time, so a CSV of a million rows is checked
and written as it arrives rather than held whole.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import anyio.from_thread
from fastapi import APIRouter, Query, Request, status
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.requests import ClientDisconnect

from orchestrator.campaigns import append
from orchestrator.campaigns.append_schemas import (
    APPEND_REQUEST_BODY,
    CSV_MEDIA_TYPE,
    AppendCustomersOut,
    AppendEnvelope,
    OnError,
)
from orchestrator.config import get_settings
from orchestrator.db import SessionDep
from orchestrator.exceptions import (
    PayloadTooLarge,
    TooManyRequests,
    ValidationFailed,
    error_responses,
)
from orchestrator.orgs.auth import Caller, CallerDep
from orchestrator.wire import nest_messages

router = APIRouter(tags=["Campaigns"])

# A JSON body holds at most ``max_customers_per_request`` customers: this many bytes each.
JSON_BYTES_PER_CUSTOMER = 8_192


class AppendSlots:
    """The appends this process runs at once: each holds a database connection and a worker
    thread until its body has arrived, so there are at most ``max_concurrent_imports``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.in_use = 0

    @contextmanager
    def taken(self, *, limit: int) -> Iterator[None]:
        with self._lock:
            if self.in_use >= limit:
                raise TooManyRequests(
                    f"{limit} appends are already under way in this server: try again shortly"
                )
            self.in_use += 1
        try:
            yield
        finally:
            with self._lock:
                self.in_use -= 1


SLOTS = AppendSlots()


@router.post(
    "/campaign/{campaign_id}/customers",
    status_code=status.HTTP_201_CREATED,
    response_model=AppendCustomersOut,
    responses=error_responses(400, 401, 404, 409, 413, 429),
    openapi_extra=APPEND_REQUEST_BODY,
)
def append_customers(
    campaign_id: str,
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    on_error: Annotated[OnError, Query(alias="onError")] = OnError.FAIL,
) -> Any:
    """Extension: add customers to a campaign that has not ended, from JSON
    (``{"customers": [...]}``, as ``POST /campaign`` takes them) or ``text/csv`` (up to
    1,000,000 rows), with creation's checks and de-duplication. Any bad row refuses the whole
    request, naming every problem by row and column, unless ``onError=skip``. A campaign
    takes one append at a time (409) and a server a few (429)."""
    with SLOTS.taken(limit=get_settings().max_concurrent_imports):
        return _append(campaign_id, request, caller, session, on_error)


def _append(
    campaign_id: str, request: Request, caller: Caller, session: Session, on_error: OnError
) -> Any:
    settings = get_settings()
    skip = on_error == OnError.SKIP
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == CSV_MEDIA_TYPE:
        target = append.AppendTarget(caller.org_id, campaign_id, skip, settings.max_import_rows)
        return append.append_csv(session, target=target, blocks=_blocks(request))
    target = append.AppendTarget(
        caller.org_id, campaign_id, skip, settings.max_customers_per_request
    )
    limit = settings.max_customers_per_request * JSON_BYTES_PER_CUSTOMER
    try:
        envelope = AppendEnvelope.model_validate_json(_whole(_blocks(request), limit=limit))
    except ValidationError as error:
        raise ValidationFailed(nest_messages(error.errors())) from None
    return append.append_json(session, target=target, customers=envelope.customers)


def _blocks(request: Request) -> Iterator[bytes]:
    """The request's body as it arrives (this endpoint runs in a worker thread)."""
    stream = request.stream()
    while True:
        try:
            block = anyio.from_thread.run(stream.__anext__)
        except StopAsyncIteration:
            return
        except ClientDisconnect:
            raise ValidationFailed(["the request body ended early"]) from None
        if block:
            yield block


def _whole(blocks: Iterator[bytes], *, limit: int) -> bytes:
    body = bytearray()
    for block in blocks:
        body += block
        if len(body) > limit:
            raise PayloadTooLarge(f"a JSON body may not exceed {limit} bytes: send text/csv")
    return bytes(body)
