"""Queries for orgs and API keys."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.models import ApiKey, Org


def add_org(session: Session, *, name: str, concurrency_limit: int) -> Org:
    org = Org(id=uuid.uuid4(), name=name, concurrency_limit=concurrency_limit)
    session.add(org)
    session.flush()
    return org


def add_api_key(session: Session, *, org_id: uuid.UUID, key_hash: str, key_prefix: str) -> ApiKey:
    api_key = ApiKey(org_id=org_id, key_hash=key_hash, key_prefix=key_prefix)
    session.add(api_key)
    session.flush()
    return api_key


def get_org_by_key_hash(session: Session, *, key_hash: str) -> Org | None:
    stmt = (
        select(Org)
        .join(ApiKey, ApiKey.org_id == Org.id)
        .where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
    )
    return session.scalars(stmt).first()


def get_org(session: Session, *, org_id: uuid.UUID) -> Org | None:
    return session.get(Org, org_id)


def get_org_by_name(session: Session, *, name: str) -> Org | None:
    return session.scalars(select(Org).where(Org.name == name).order_by(Org.created_at)).first()
