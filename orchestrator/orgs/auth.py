"""Bearer authentication: every endpoint but health and webhooks resolves the caller's org."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from orchestrator.db import session_scope
from orchestrator.exceptions import Unauthorized
from orchestrator.orgs import service


def get_session() -> Iterator[Session]:
    """The request owns the transaction: commit when the endpoint returns, roll back on error."""
    with session_scope() as session:
        yield session


# Function scope: the commit runs before the answer is sent and before background tasks, so a
# client never hears of a write that is not stored, and tasks enqueued after the answer find
# the rows committed.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

# How work outside a request's session (the webhook intake) opens its own transactions.
UnitOfWork = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class Caller:
    org_id: uuid.UUID
    concurrency_limit: int


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Missing or malformed Authorization header (expected 'Bearer <key>')")
    return token.strip()


def current_caller(request: Request, session: SessionDep) -> Caller:
    org = service.authenticate(session, api_key=bearer_token(request))
    if org is None:
        raise Unauthorized("Invalid API key")
    return Caller(org_id=org.id, concurrency_limit=org.concurrency_limit)


CallerDep = Annotated[Caller, Depends(current_caller)]
