"""Orgs and their API keys. A key is shown once; only its SHA-256 digest is stored."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from orchestrator.exceptions import NotFound, ValidationFailed
from orchestrator.models import Org
from orchestrator.models.org import new_signing_secret
from orchestrator.orgs import repository

KEY_PREFIX = "orch_"


@dataclass(frozen=True)
class CreatedOrg:
    org_id: uuid.UUID
    name: str
    concurrency_limit: int
    api_key: str
    # What campaign events to the org's servers are signed with; shown once, like the key.
    signing_secret: str = field(default="", repr=False)


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def generate_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


NAME_MAX_LENGTH = 200


def create_org(session: Session, *, name: str, concurrency_limit: int) -> CreatedOrg:
    errors = []
    if not name.strip():
        errors.append("name should not be empty")
    if len(name) > NAME_MAX_LENGTH:
        errors.append(f"name must be shorter than or equal to {NAME_MAX_LENGTH} characters")
    if concurrency_limit < 1:
        errors.append("concurrencyLimit must not be less than 1")
    if errors:
        raise ValidationFailed(errors)
    org = repository.add_org(session, name=name, concurrency_limit=concurrency_limit)
    api_key = issue_api_key(session, org_id=org.id)
    return CreatedOrg(org.id, org.name, org.concurrency_limit, api_key, org.signing_secret)


def issue_api_key(session: Session, *, org_id: uuid.UUID) -> str:
    api_key = generate_api_key()
    repository.add_api_key(
        session, org_id=org_id, key_hash=hash_api_key(api_key), key_prefix=api_key[:12]
    )
    return api_key


def authenticate(session: Session, *, api_key: str) -> Org | None:
    return repository.get_org_by_key_hash(session, key_hash=hash_api_key(api_key))


def set_concurrency_limit(session: Session, *, org_id: uuid.UUID, concurrency_limit: int) -> Org:
    if concurrency_limit < 1:
        raise ValidationFailed(["concurrencyLimit must not be less than 1"])
    org = repository.get_org(session, org_id=org_id)
    if org is None:
        raise NotFound("Org not found")
    org.concurrency_limit = concurrency_limit
    return org


def set_default_calling_hours(session: Session, *, org_id: uuid.UUID, enabled: bool) -> Org:
    """Switch the default calling-hours policy for campaigns without ``callingHours``."""
    org = repository.get_org(session, org_id=org_id)
    if org is None:
        raise NotFound("Org not found")
    org.default_calling_hours = enabled
    return org


def rotate_signing_secret(session: Session, *, org_id: uuid.UUID) -> str:
    """A new signing secret for the org's campaign events, in use from the commit on."""
    org = repository.get_org(session, org_id=org_id)
    if org is None:
        raise NotFound("Org not found")
    org.signing_secret = new_signing_secret()
    return org.signing_secret
