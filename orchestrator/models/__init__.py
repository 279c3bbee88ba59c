"""ORM models, one file per table."""

from orchestrator.models.api_key import ApiKey
from orchestrator.models.base import Base
from orchestrator.models.call import Call
from orchestrator.models.call_lookup import CallLookup
from orchestrator.models.campaign import Campaign
from orchestrator.models.campaign_counter_shard import CampaignCounters, CampaignCounterShard
from orchestrator.models.campaign_event import OutboxEvent
from orchestrator.models.chat import Chat
from orchestrator.models.chat_session import ChatSession
from orchestrator.models.contact import Contact
from orchestrator.models.contact_decision import ContactDecision, DecisionKind
from orchestrator.models.enums import (
    CallStatus,
    CampaignEndedReason,
    CampaignEventStatus,
    CampaignStatus,
    ContactStatus,
    SessionStatus,
    TextPurpose,
    TextStatus,
    WebhookOutcome,
)
from orchestrator.models.org import Org
from orchestrator.models.phone_number import PhoneNumber
from orchestrator.models.recipient_attempt import RecipientAttempt
from orchestrator.models.suppression import Suppression
from orchestrator.models.webhook_event import WebhookEvent

__all__ = [
    "ApiKey",
    "Base",
    "Call",
    "CallLookup",
    "CallStatus",
    "Campaign",
    "CampaignCounterShard",
    "CampaignCounters",
    "CampaignEndedReason",
    "CampaignEventStatus",
    "CampaignStatus",
    "Chat",
    "ChatSession",
    "Contact",
    "ContactDecision",
    "ContactStatus",
    "DecisionKind",
    "Org",
    "OutboxEvent",
    "PhoneNumber",
    "RecipientAttempt",
    "SessionStatus",
    "Suppression",
    "TextPurpose",
    "TextStatus",
    "WebhookEvent",
    "WebhookOutcome",
]
