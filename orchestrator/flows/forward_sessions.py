"""Sessions kept in step with the provider: opened there at once, changed and deleted there
first. When the provider refuses or fails, nothing changes here.

A session opened with ``POST /session`` is stored only once the provider made it; a session
the provider does not know yet (one a text opens, before the text is sent) changes here alone,
and the text carries what it then is.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.exceptions import ServiceUnavailable, ValidationFailed
from orchestrator.flows.forward_chats import provider_failure
from orchestrator.models import ChatSession, SessionStatus
from orchestrator.phone_numbers import repository as phone_numbers_repo
from orchestrator.providers.chats import ProviderChats
from orchestrator.providers.errors import ProviderError, ProviderRejected
from orchestrator.providers.webhook_server import our_webhook_server
from orchestrator.reasons import TEXT_SESSION_DELETED
from orchestrator.sessions import repository, service
from orchestrator.sessions.schemas import CreateSessionIn, UpdateSessionIn, create_rule_errors
from orchestrator.sessions.wire import session_to_wire
from orchestrator.texts.service import customer_number_of

# How often the provider is asked when the session changed there meanwhile.
_ATTEMPTS = 3
_CHANGING = "The session is changing at the provider; try again shortly."


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def create_session(
    session: Session, *, provider: ProviderChats, org_id: uuid.UUID, body: CreateSessionIn
) -> dict[str, Any]:
    """Open the session at the provider, then keep it with the provider's id."""
    given = body.given_fields()
    errors = create_rule_errors(given)
    if errors:
        raise ValidationFailed(errors)
    try:
        # The session's messages (its customer's replies) come to our webhook.
        overrides = dict(given.get("assistantOverrides") or {})
        overrides["server"] = our_webhook_server(get_settings())
        made = provider.create_session({**given, "assistantOverrides": overrides})
    except ProviderError as error:
        raise provider_failure(error, what="session create") from error
    now = utcnow()
    customer = body.customer.model_dump(by_alias=True, exclude_none=True) if body.customer else None
    messages = body.messages if body.messages is not None else made.get("messages")
    row = ChatSession(
        org_id=org_id,
        provider_session_id=made["id"],
        name=body.name,
        status=SessionStatus(body.status or SessionStatus.ACTIVE),
        expiration_seconds=body.expiration_seconds,
        assistant_id=body.assistant_id,
        assistant=body.assistant,
        assistant_overrides=body.assistant_overrides,
        squad_id=body.squad_id,
        squad=body.squad,
        customer=customer,
        customer_number=customer_number_of(customer),
        phone_number_id=body.phone_number_id,
        messages=list(messages) if isinstance(messages, list) else [],
        cost=_float(made.get("cost")),
        last_activity_at=now,
        provider_synced_at=now,
        created_at=now,
        updated_at=now,
    )
    repository.add_session(session, row)
    if body.phone_number_id is not None:
        phone_numbers_repo.ensure_phone_numbers(
            session, org_id=org_id, provider_ids=[body.phone_number_id]
        )
    return session_to_wire(row, now=now)


def _provider_side(
    session: Session, *, org_id: uuid.UUID, session_id: str, deleting: bool
) -> str | None:
    """The provider's id of the session, read without a lock; the read ends before the
    provider is asked, so no row stays locked while the provider answers."""
    row = service.require_session(session, org_id=org_id, session_id=session_id)
    if deleting:
        service.refuse_delete_while_sending(session, session_id=row.id)
    provider_session_id = row.provider_session_id
    session.commit()
    return provider_session_id


def update_session(
    session: Session,
    *,
    provider: ProviderChats,
    org_id: uuid.UUID,
    session_id: str,
    body: UpdateSessionIn,
) -> dict[str, Any]:
    """Change it at the provider (when the provider has it), then here.

    The session may learn its provider's id while the provider answers (its first text was
    accepted): then the provider is asked again with that id.
    """
    given = body.given_fields()
    for _ in range(_ATTEMPTS):
        asked = _provider_side(session, org_id=org_id, session_id=session_id, deleting=False)
        if asked is not None and given:
            try:
                provider.update_session(asked, given)
            except ProviderError as error:
                raise provider_failure(error, what="session update") from error
        row = service.require_session(session, org_id=org_id, session_id=session_id, lock=True)
        if row.provider_session_id == asked:
            now = utcnow()
            service.apply_update(row, body=body, now=now)
            session.flush()
            return session_to_wire(row, now=now)
        session.commit()
    raise ServiceUnavailable(_CHANGING)


def _delete_at_provider(provider: ProviderChats, provider_session_id: str) -> None:
    try:
        provider.delete_session(provider_session_id)
    except ProviderRejected as error:
        if error.status_code != 404:  # one the provider no longer has is deleted already
            raise provider_failure(error, what="session delete") from error
    except ProviderError as error:
        raise provider_failure(error, what="session delete") from error


def delete_session(
    session: Session, *, provider: ProviderChats, org_id: uuid.UUID, session_id: str
) -> dict[str, Any]:
    """Delete it at the provider, then here; its texts not yet sent never will be.

    Refused while one of its texts is being sent: the provider's answer for it is what tells
    us the provider's id of the session, which the customer's replies are matched by.
    """
    for _ in range(_ATTEMPTS):
        asked = _provider_side(session, org_id=org_id, session_id=session_id, deleting=True)
        if asked is not None:
            _delete_at_provider(provider, asked)
        row = service.require_session(session, org_id=org_id, session_id=session_id, lock=True)
        if row.provider_session_id != asked:
            session.commit()
            continue
        now = utcnow()
        # Its queued texts locked first: none can start being sent after this check.
        repository.queued_texts_of(session, session_id=row.id)
        service.refuse_delete_while_sending(session, session_id=row.id)
        answered = session_to_wire(row, now=now)
        service.withdraw_queued_texts(
            session, session_id=row.id, reason=TEXT_SESSION_DELETED, now=now
        )
        repository.delete_session(session, row)
        return answered
    raise ServiceUnavailable(_CHANGING)
