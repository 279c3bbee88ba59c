"""The campaign state machine: every status against every event."""

from __future__ import annotations

import itertools

import pytest

from orchestrator.campaigns.states import (
    CampaignEvent,
    CampaignTransition,
    InvalidCampaignTransition,
    next_campaign_state,
)
from orchestrator.models.enums import CampaignEndedReason, CampaignStatus

S = CampaignStatus
E = CampaignEvent
R = CampaignEndedReason

# Every allowed move; any (status, event) pair missing here must be refused.
ALLOWED: dict[tuple[CampaignStatus, CampaignEvent], CampaignTransition] = {
    (S.SCHEDULED, E.START): CampaignTransition(S.IN_PROGRESS, None),
    (S.SCHEDULED, E.COMPLETE): CampaignTransition(S.ENDED, R.SUCCESS),
    (S.SCHEDULED, E.END_BY_USER): CampaignTransition(S.ENDED, R.SCHEDULED_ENDED_BY_USER),
    (S.SCHEDULED, E.CANCEL_BY_USER): CampaignTransition(S.CANCELLED, R.SCHEDULED_ENDED_BY_USER),
    (S.SCHEDULED, E.ARCHIVE): CampaignTransition(S.ARCHIVED, R.SCHEDULED_ENDED_BY_USER),
    (S.IN_PROGRESS, E.COMPLETE): CampaignTransition(S.ENDED, R.SUCCESS),
    (S.IN_PROGRESS, E.END_BY_USER): CampaignTransition(S.ENDED, R.IN_PROGRESS_ENDED_BY_USER),
    (S.IN_PROGRESS, E.CANCEL_BY_USER): CampaignTransition(S.CANCELLED, R.IN_PROGRESS_ENDED_BY_USER),
    (S.IN_PROGRESS, E.ARCHIVE): CampaignTransition(S.ARCHIVED, R.IN_PROGRESS_ENDED_BY_USER),
    (S.SCHEDULED, E.PAUSE): CampaignTransition(S.PAUSED, None),
    (S.IN_PROGRESS, E.PAUSE): CampaignTransition(S.PAUSED, None),
    # A paused campaign that never dialed: resuming goes back to scheduled (see below for one
    # that did), and a stop counts as a stop of a scheduled campaign.
    (S.PAUSED, E.RESUME): CampaignTransition(S.SCHEDULED, None),
    (S.PAUSED, E.COMPLETE): CampaignTransition(S.ENDED, R.SUCCESS),
    (S.PAUSED, E.END_BY_USER): CampaignTransition(S.ENDED, R.SCHEDULED_ENDED_BY_USER),
    (S.PAUSED, E.CANCEL_BY_USER): CampaignTransition(S.CANCELLED, R.SCHEDULED_ENDED_BY_USER),
    (S.PAUSED, E.ARCHIVE): CampaignTransition(S.ARCHIVED, R.SCHEDULED_ENDED_BY_USER),
    (S.ENDED, E.ARCHIVE): CampaignTransition(S.ARCHIVED, R.SUCCESS),
    (S.CANCELLED, E.ARCHIVE): CampaignTransition(S.ARCHIVED, R.SUCCESS),
}

PAIRS = list(itertools.product(CampaignStatus, CampaignEvent))
REFUSED = [pair for pair in PAIRS if pair not in ALLOWED]


def test_the_table_covers_every_status_and_event() -> None:
    assert len(PAIRS) == 42
    assert len(ALLOWED) + len(REFUSED) == len(PAIRS)


@pytest.mark.parametrize(("status", "event"), list(ALLOWED), ids=str)
def test_allowed_move(status: CampaignStatus, event: CampaignEvent) -> None:
    # An ended campaign's reason is passed in as its current one: archiving must keep it.
    current = R.SUCCESS if status in (S.ENDED, S.CANCELLED) else None
    assert next_campaign_state(status, event, current) == ALLOWED[(status, event)]


@pytest.mark.parametrize(("status", "event"), REFUSED, ids=str)
def test_refused_move(status: CampaignStatus, event: CampaignEvent) -> None:
    with pytest.raises(InvalidCampaignTransition) as raised:
        next_campaign_state(status, event, R.SUCCESS)
    assert raised.value.status == status
    assert raised.value.event == event
    assert str(raised.value) == f"campaign cannot go from {status.value} by {event.value}"


def test_a_refused_move_from_a_status_read_as_a_string_says_so() -> None:
    with pytest.raises(InvalidCampaignTransition) as raised:
        next_campaign_state("ended", CampaignEvent.CANCEL_BY_USER)  # type: ignore[arg-type]
    assert str(raised.value) == "campaign cannot go from ended by cancel-by-user"


@pytest.mark.parametrize("reason", [*CampaignEndedReason, None])
@pytest.mark.parametrize("status", [S.ENDED, S.CANCELLED])
def test_archiving_keeps_the_reason_a_campaign_ended_with(
    status: CampaignStatus, reason: CampaignEndedReason | None
) -> None:
    assert next_campaign_state(status, E.ARCHIVE, reason) == CampaignTransition(S.ARCHIVED, reason)


@pytest.mark.parametrize("status", [S.SCHEDULED, S.IN_PROGRESS])
def test_a_user_stop_ignores_any_earlier_reason(status: CampaignStatus) -> None:
    ended = next_campaign_state(status, E.END_BY_USER, R.SUCCESS)
    assert ended.ended_reason != R.SUCCESS


def test_a_paused_campaign_that_dialed_resumes_in_progress() -> None:
    resumed = next_campaign_state(S.PAUSED, E.RESUME, started=True)
    assert resumed == CampaignTransition(S.IN_PROGRESS, None)


@pytest.mark.parametrize("event", [E.END_BY_USER, E.CANCEL_BY_USER, E.ARCHIVE])
def test_stopping_a_paused_campaign_that_dialed_is_an_in_progress_stop(
    event: CampaignEvent,
) -> None:
    stopped = next_campaign_state(S.PAUSED, event, started=True)
    assert stopped.ended_reason == R.IN_PROGRESS_ENDED_BY_USER


def test_an_archived_campaign_never_moves() -> None:
    for event in CampaignEvent:
        with pytest.raises(InvalidCampaignTransition):
            next_campaign_state(S.ARCHIVED, event)


def test_refusal_is_a_value_error() -> None:
    assert issubclass(InvalidCampaignTransition, ValueError)
