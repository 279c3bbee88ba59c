"""A contact's history, read for the API. Services never commit."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.campaigns import text_repository
from orchestrator.campaigns.service import require_campaign
from orchestrator.contacts import listing_repository
from orchestrator.decisions import repository
from orchestrator.decisions.wire import history_to_wire
from orchestrator.exceptions import NotFound, id_or_not_found

# The most decisions one answer shows (the latest): a contact whose history grew without
# bound (a bug, a years-long campaign) still gets a small answer.
DECISIONS_SHOWN = 1000
CONTACT_NOT_FOUND = "Contact not found"


def contact_history(
    session: Session, *, org_id: uuid.UUID, campaign_id: str, contact_id: str
) -> dict[str, Any]:
    """The org's campaign's contact, its attempts and its decisions; a 404 for anything the
    org does not have (another org's campaign, a contact of another campaign, an id that is
    not one)."""
    campaign = require_campaign(session, org_id, campaign_id, lock=False)
    parsed = id_or_not_found(contact_id, message=CONTACT_NOT_FOUND)
    contact = listing_repository.contact_of_campaign(
        session, campaign_id=campaign.id, contact_id=parsed
    )
    if contact is None:
        raise NotFound(CONTACT_NOT_FOUND)
    attempts = repository.attempts_of(session, contact_id=parsed)
    decisions, older = repository.decisions_of(session, contact_id=parsed, limit=DECISIONS_SHOWN)
    texts = text_repository.last_texts(session, contact_ids=[parsed])
    return history_to_wire(
        contact, attempts, decisions, truncated=older, last_text=texts.get(parsed)
    )
