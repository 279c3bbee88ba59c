"""``POST /campaign/{id}/customers`` (extension), beside Vapi's v1 campaign endpoints.

The endpoint reads the body itself, a block at a time, so a CSV of a million rows is checked
and written as it arrives rather than held whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import anyio.from_thread
from fastapi import APIRouter, Query, Request, status
from pydantic import ValidationError
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
from orchestrator.exceptions import PayloadTooLarge, ValidationFailed, error_responses
from orchestrator.orgs.auth import CallerDep
from orchestrator.wire import nest_messages

router = APIRouter(tags=["Campaigns"])

# A JSON body holds at most ``max_customers_per_request`` customers: this many bytes each.
JSON_BYTES_PER_CUSTOMER = 8_192


@router.post(
    "/campaign/{campaign_id}/customers",
    status_code=status.HTTP_201_CREATED,
    response_model=AppendCustomersOut,
    responses=error_responses(400, 401, 404, 413),
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
    request, naming every problem by row and column, unless ``onError=skip``."""
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
