"""Status values of every state machine; the transitions live in each domain's ``states.py``."""

from __future__ import annotations

from enum import StrEnum


class CampaignStatus(StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in-progress"
    PAUSED = "paused"
    ENDED = "ended"
    CANCELLED = "cancelled"
    ARCHIVED = "archived"


class CampaignEndedReason(StrEnum):
    SUCCESS = "campaign.ended.success"
    SCHEDULED_ENDED_BY_USER = "campaign.scheduled.ended-by-user"
    IN_PROGRESS_ENDED_BY_USER = "campaign.in-progress.ended-by-user"


class ContactStatus(StrEnum):
    PENDING = "pending"
    DISPATCHED = "dispatched"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    PREDIAL_FAILED = "predial-failed"


class CampaignEventStatus(StrEnum):
    """A campaign event on its way to the campaign's server."""

    PENDING = "pending"
    DELIVERED = "delivered"
    # Every retry failed: kept, listed and redeliverable.
    FAILED = "failed"


class CallStatus(StrEnum):
    """Vapi's call statuses, with two of ours for the time before the provider knows it.

    ``scheduled``: a call made through ``POST /call`` waits for its time and for capacity (on
    the wire ``scheduled`` while its ``schedulePlan.earliestAt`` is ahead, else ``queued``).
    ``claimed``: the scheduler reserved capacity and wrote the row; no request sent yet.
    ``dialing``: a worker won the compare-and-set and is sending ``POST /call``.
    ``failed``: the provider refused the create; the call never existed there.
    """

    SCHEDULED = "scheduled"
    CLAIMED = "claimed"
    DIALING = "dialing"
    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    FORWARDING = "forwarding"
    ENDED = "ended"
    FAILED = "failed"


class WebhookOutcome(StrEnum):
    """What became of a provider message: stored in ``webhook_events.outcome`` (NULL while it
    waits to be applied), logged, and counted by ``orchestrator_webhook_events``."""

    APPLIED = "applied"
    # Applied, and it changed nothing (a late or repeated status, for one).
    NO_CHANGE = "no-change"
    # For a call whose provider id we do not know yet: applied once the create's answer comes.
    PARKED = "parked"
    # Without a provider call id and without our metadata: no call of ours to apply it to.
    UNKNOWN_CALL = "unknown-call"
    # A type we store but do not apply.
    IGNORED = "ignored"
    # Applying it raised (a fault of ours, logged): kept for inspection, never retried.
    FAILED = "failed"
    # The same message again: never stored twice, only counted.
    DUPLICATE = "duplicate"


IN_FLIGHT_CALL_STATUSES: tuple[CallStatus, ...] = (
    CallStatus.CLAIMED,
    CallStatus.DIALING,
    CallStatus.QUEUED,
    CallStatus.RINGING,
    CallStatus.IN_PROGRESS,
    CallStatus.FORWARDING,
)
TERMINAL_CALL_STATUSES: tuple[CallStatus, ...] = (CallStatus.ENDED, CallStatus.FAILED)


class TextStatus(StrEnum):
    """An outbound text's delivery (a chat with the SMS transport); ``texts.states`` moves it.

    ``queued``: stored, waiting for its turn (a rate slot, calling hours, a frequency cap).
    ``sending``: a worker won the compare-and-set and is sending ``POST /chat``; one whose
    answer was lost stays here until it is looked up at the provider, never sent blindly again.
    ``sent``: the provider accepted it. ``failed``: refused, by the provider or by the gate.
    """

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class SessionStatus(StrEnum):
    """Vapi's session statuses."""

    ACTIVE = "active"
    COMPLETED = "completed"


class TextPurpose(StrEnum):
    """Why a text was sent: asked for through ``POST /chat``, a campaign's text to a contact,
    or the follow-up of a contact's last call."""

    API = "api"
    CAMPAIGN = "campaign"
    FOLLOW_UP = "follow-up"
