"""Orgs, with their API key, as ``orchestrator org create`` makes them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from orchestrator.orgs.service import CreatedOrg, create_org


def make_org(session: Session, *, name: str = "acme", concurrency_limit: int = 10) -> CreatedOrg:
    return create_org(session, name=name, concurrency_limit=concurrency_limit)
