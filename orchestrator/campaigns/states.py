"""The campaign state machine as one pure function."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from orchestrator.models.enums import CampaignEndedReason, CampaignStatus


class CampaignEvent(StrEnum):
    START = "start"
    COMPLETE = "complete"
    END_BY_USER = "end-by-user"
    CANCEL_BY_USER = "cancel-by-user"
    ARCHIVE = "archive"
    PAUSE = "pause"
    RESUME = "resume"


@dataclass(frozen=True)
class CampaignTransition:
    status: CampaignStatus
    ended_reason: CampaignEndedReason | None


class InvalidCampaignTransition(ValueError):
    def __init__(self, status: CampaignStatus, event: CampaignEvent) -> None:
        # A status read from the database is a plain string: formatted, both read the same.
        super().__init__(f"campaign cannot go from {status} by {event}")
        self.status = status
        self.event = event


def _by_user_reason(status: CampaignStatus, *, started: bool) -> CampaignEndedReason:
    if status == CampaignStatus.SCHEDULED or (status == CampaignStatus.PAUSED and not started):
        return CampaignEndedReason.SCHEDULED_ENDED_BY_USER
    return CampaignEndedReason.IN_PROGRESS_ENDED_BY_USER


def next_campaign_state(
    status: CampaignStatus,
    event: CampaignEvent,
    ended_reason: CampaignEndedReason | None = None,
    *,
    started: bool = False,
) -> CampaignTransition:
    """Where ``event`` takes a campaign in ``status``; raises when the move is not allowed.

    ``ended_reason`` is the campaign's current one; it survives archiving. ``started`` says
    whether the campaign dialed before, which decides where a resume goes back to.
    """
    dialable = status in (CampaignStatus.SCHEDULED, CampaignStatus.IN_PROGRESS)
    active = dialable or status == CampaignStatus.PAUSED
    if event == CampaignEvent.PAUSE and dialable:
        return CampaignTransition(CampaignStatus.PAUSED, None)
    if event == CampaignEvent.RESUME and status == CampaignStatus.PAUSED:
        resumed = CampaignStatus.IN_PROGRESS if started else CampaignStatus.SCHEDULED
        return CampaignTransition(resumed, None)
    if event == CampaignEvent.START and status == CampaignStatus.SCHEDULED:
        return CampaignTransition(CampaignStatus.IN_PROGRESS, None)
    if event == CampaignEvent.COMPLETE and active:
        return CampaignTransition(CampaignStatus.ENDED, CampaignEndedReason.SUCCESS)
    if event == CampaignEvent.END_BY_USER and active:
        return CampaignTransition(CampaignStatus.ENDED, _by_user_reason(status, started=started))
    if event == CampaignEvent.CANCEL_BY_USER and active:
        return CampaignTransition(
            CampaignStatus.CANCELLED, _by_user_reason(status, started=started)
        )
    if event == CampaignEvent.ARCHIVE and status != CampaignStatus.ARCHIVED:
        reason = _by_user_reason(status, started=started) if active else ended_reason
        return CampaignTransition(CampaignStatus.ARCHIVED, reason)
    raise InvalidCampaignTransition(status, event)
