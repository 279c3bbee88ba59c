"""Orgs and API keys: a key is shown once, stored only as a digest, and finds only its org."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.exceptions import NotFound, ValidationFailed
from orchestrator.models import ApiKey, Org
from orchestrator.orgs import service


def test_create_org_returns_a_key(session: Session) -> None:
    created = service.create_org(session, name="acme", concurrency_limit=7)
    assert created.api_key.startswith(service.KEY_PREFIX)
    assert len(created.api_key) > 40
    org = session.get(Org, created.org_id)
    assert org is not None
    assert (org.name, org.concurrency_limit) == ("acme", 7)
    assert (created.name, created.concurrency_limit) == ("acme", 7)


def test_every_org_gets_a_different_key(session: Session) -> None:
    keys = {
        service.create_org(session, name=f"org-{i}", concurrency_limit=1).api_key for i in range(5)
    }
    assert len(keys) == 5


def test_only_the_digest_is_stored(session: Session) -> None:
    created = service.create_org(session, name="acme", concurrency_limit=10)
    rows = (
        session.execute(text("SELECT * FROM api_keys WHERE org_id = :org"), {"org": created.org_id})
        .mappings()
        .all()
    )
    assert len(rows) == 1
    stored = [str(value) for value in rows[0].values()]
    assert created.api_key not in stored
    assert not any(created.api_key in value for value in stored)
    assert rows[0]["key_hash"] == hashlib.sha256(created.api_key.encode()).hexdigest()
    # The prefix helps people tell keys apart; it must stay too short to be the key.
    assert created.api_key.startswith(rows[0]["key_prefix"])
    assert len(rows[0]["key_prefix"]) <= 12


def test_authenticate_with_the_key(session: Session) -> None:
    acme = service.create_org(session, name="acme", concurrency_limit=10)
    globex = service.create_org(session, name="globex", concurrency_limit=10)
    found = service.authenticate(session, api_key=acme.api_key)
    assert found is not None
    assert found.id == acme.org_id
    other = service.authenticate(session, api_key=globex.api_key)
    assert other is not None
    assert other.id == globex.org_id


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: key + "x",
        lambda key: key[:-1],
        lambda key: key.upper(),
        lambda key: "",
        lambda key: hashlib.sha256(key.encode()).hexdigest(),
    ],
    ids=["suffix", "truncated", "case", "empty", "the-digest-itself"],
)
def test_authenticate_fails_with_a_wrong_key(
    session: Session, mangle: Callable[[str], str]
) -> None:
    created = service.create_org(session, name="acme", concurrency_limit=10)
    assert service.authenticate(session, api_key=mangle(created.api_key)) is None


def test_a_revoked_key_no_longer_authenticates(session: Session) -> None:
    created = service.create_org(session, name="acme", concurrency_limit=10)
    key = session.scalars(select(ApiKey).where(ApiKey.org_id == created.org_id)).one()
    key.revoked_at = utcnow()
    session.flush()
    assert service.authenticate(session, api_key=created.api_key) is None


def test_a_second_key_works_alongside_the_first(session: Session) -> None:
    created = service.create_org(session, name="acme", concurrency_limit=10)
    second = service.issue_api_key(session, org_id=created.org_id)
    assert second != created.api_key
    for key in (created.api_key, second):
        org = service.authenticate(session, api_key=key)
        assert org is not None
        assert org.id == created.org_id


@pytest.mark.parametrize(
    ("name", "limit", "message"),
    [
        ("", 10, "name should not be empty"),
        ("   ", 10, "name should not be empty"),
        ("a" * 201, 10, "name must be shorter than or equal to 200 characters"),
        ("acme", 0, "concurrencyLimit must not be less than 1"),
        ("acme", -5, "concurrencyLimit must not be less than 1"),
    ],
)
def test_create_org_validation(session: Session, name: str, limit: int, message: str) -> None:
    orgs = session.scalar(select(func.count()).select_from(Org))
    keys = session.scalar(select(func.count()).select_from(ApiKey))
    with pytest.raises(ValidationFailed) as raised:
        service.create_org(session, name=name, concurrency_limit=limit)
    assert raised.value.messages == [message]
    assert session.scalar(select(func.count()).select_from(Org)) == orgs
    assert session.scalar(select(func.count()).select_from(ApiKey)) == keys


def test_create_org_lists_every_problem(session: Session) -> None:
    with pytest.raises(ValidationFailed) as raised:
        service.create_org(session, name="", concurrency_limit=0)
    assert raised.value.messages == [
        "name should not be empty",
        "concurrencyLimit must not be less than 1",
    ]


@pytest.mark.parametrize("limit", [1, 10, 250])
def test_set_concurrency_limit(session: Session, limit: int) -> None:
    created = service.create_org(session, name="acme", concurrency_limit=10)
    org = service.set_concurrency_limit(session, org_id=created.org_id, concurrency_limit=limit)
    session.flush()
    session.expire_all()
    stored = session.get(Org, created.org_id)
    assert stored is not None
    assert org.concurrency_limit == stored.concurrency_limit == limit


@pytest.mark.parametrize("limit", [0, -1])
def test_set_concurrency_limit_below_one(session: Session, limit: int) -> None:
    created = service.create_org(session, name="acme", concurrency_limit=10)
    with pytest.raises(ValidationFailed) as raised:
        service.set_concurrency_limit(session, org_id=created.org_id, concurrency_limit=limit)
    assert raised.value.messages == ["concurrencyLimit must not be less than 1"]
    assert raised.value.status_code == 400
    session.expire_all()
    stored = session.get(Org, created.org_id)
    assert stored is not None
    assert stored.concurrency_limit == 10


def test_set_concurrency_limit_of_unknown_org(session: Session) -> None:
    with pytest.raises(NotFound) as raised:
        service.set_concurrency_limit(session, org_id=uuid.uuid4(), concurrency_limit=5)
    assert raised.value.status_code == 404
