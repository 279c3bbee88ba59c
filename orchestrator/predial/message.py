"""The question a pre-dial check asks: Vapi's ``ServerMessageCampaignPredial``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orchestrator.models import Contact
from orchestrator.wire import iso

PREDIAL_MESSAGE_TYPE = "campaign.predial"
# The customer's fields that Vapi's ``CampaignContact`` carries as well.
_CONTACT_FIELDS = ("name", "assistantOverrides", "squadOverrides")


def campaign_contact(contact: Contact) -> dict[str, Any]:
    """The contact as Vapi's ``CampaignContact``."""
    wire: dict[str, Any] = {
        "id": str(contact.id),
        "campaignId": str(contact.campaign_id),
        "orgId": str(contact.org_id),
    }
    number = contact.number or contact.customer.get("sipUri")
    if number is not None:
        wire["number"] = number
    wire.update({key: contact.customer[key] for key in _CONTACT_FIELDS if key in contact.customer})
    wire["createdAt"] = iso(contact.created_at)
    return wire


def predial_message(contact: Contact, *, now: datetime) -> dict[str, Any]:
    """``{"message": ...}`` for ``contact``, ``timestamp`` in epoch milliseconds (a number)."""
    return {
        "message": {
            "type": PREDIAL_MESSAGE_TYPE,
            "campaignId": str(contact.campaign_id),
            "contact": campaign_contact(contact),
            "customer": contact.customer,
            "timestamp": int(now.timestamp() * 1000),
        }
    }
