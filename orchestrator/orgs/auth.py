"""Bearer authentication: every endpoint but health and webhooks resolves the caller's org."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from orchestrator.db import SessionDep
from orchestrator.exceptions import Unauthorized
from orchestrator.orgs import service


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
