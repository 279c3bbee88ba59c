"""A provider's phone number as we answer it: Vapi's ``PhoneNumber`` with the org's pacing.

Only the fields that say which number it is and what it dials as are passed on. The provider
account is the deployment's, shared by its orgs: its credentials (``twilioAuthToken``,
``twilioApiSecret``, ``twilioApiKey``, SIP ``authentication``) and its inbound configuration
(``server`` with its headers, ``hooks``, ``fallbackDestination``) are never shown to an org.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from orchestrator.config import get_settings
from orchestrator.models import PhoneNumber
from orchestrator.phone_numbers.schemas import PhoneNumberOut
from orchestrator.wire import iso

logger = logging.getLogger(__name__)

COMMON_FIELDS = ("id", "provider", "status", "name", "assistantId", "workflowId", "squadId")
FIELDS_BY_PROVIDER: dict[str, tuple[str, ...]] = {
    "vapi": ("number", "sipUri", "numberDesiredAreaCode"),
    "twilio": ("number", "twilioAccountSid", "smsEnabled"),
    "byo-phone-number": ("number", "credentialId", "numberE164CheckEnabled"),
    "vonage": ("number", "credentialId"),
    "telnyx": ("number", "credentialId"),
}

_PHONE_NUMBER = TypeAdapter[Any](PhoneNumberOut)


def pacing_to_wire(row: PhoneNumber | None) -> dict[str, Any]:
    """The org's pacing of a number; ``isDefault`` when nobody set it and the defaults apply."""
    calls_per_second = row.calls_per_second if row is not None else None
    return {
        "callsPerSecond": (
            calls_per_second
            if calls_per_second is not None
            else get_settings().default_calls_per_second
        ),
        "maxConcurrency": row.max_concurrency if row is not None else None,
        "isDefault": calls_per_second is None,
        "messagesPerSecond": messages_per_second_or_default(row),
    }


def messages_per_second_or_default(row: PhoneNumber | None) -> float:
    stored = row.messages_per_second if row is not None else None
    return stored if stored is not None else get_settings().default_messages_per_second


def pacing_record_to_wire(row: PhoneNumber) -> dict[str, Any]:
    return {
        "id": row.provider_phone_number_id,
        "orgId": str(row.org_id),
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
        "pacing": pacing_to_wire(row),
    }


def phone_number_to_wire(
    found: dict[str, Any], *, org_id: uuid.UUID, pacing: PhoneNumber | None
) -> dict[str, Any] | None:
    """The provider's number in Vapi's shape, or None (logged) when it is not one we can
    vouch for: a kind of number Vapi does not document, a required field missing, a bad type."""
    shown = FIELDS_BY_PROVIDER.get(str(found.get("provider")), ())
    body = {key: found[key] for key in (*COMMON_FIELDS, *shown) if found.get(key) is not None}
    body["orgId"] = str(org_id)
    body["createdAt"] = _timestamp(found.get("createdAt"))
    body["updatedAt"] = _timestamp(found.get("updatedAt"))
    body["pacing"] = pacing_to_wire(pacing)
    try:
        _PHONE_NUMBER.validate_python(body)
    except ValidationError as error:
        logger.warning(
            "provider phone number %r left out: %d problems: %s",
            found.get("id"),
            error.error_count(),
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()),
        )
        return None
    return body


def _timestamp(value: Any) -> str | None:
    """The provider's timestamp in Vapi's format (milliseconds, ``Z``), or None if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
        return iso(parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC))
    except (ValueError, OverflowError):
        return None
