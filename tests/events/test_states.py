"""Every (before, after) pair of contact and campaign statuses, and the event it is."""

from __future__ import annotations

import itertools

import pytest

from orchestrator.events.states import (
    TERMINAL_CONTACT_EVENTS,
    EventType,
    campaign_event_type,
    contact_event_type,
)
from orchestrator.models import CampaignStatus, ContactStatus

C = ContactStatus
CONTACT_EVENTS = {
    (C.PENDING, C.DISPATCHED): EventType.CONTACT_DISPATCHED,
    (C.PENDING, C.COMPLETED): EventType.CONTACT_COMPLETED,
    (C.PENDING, C.FAILED): EventType.CONTACT_FAILED,
    (C.PENDING, C.SKIPPED): EventType.CONTACT_SKIPPED,
    (C.PENDING, C.PREDIAL_FAILED): EventType.CONTACT_PREDIAL_FAILED,
    (C.DISPATCHED, C.COMPLETED): EventType.CONTACT_COMPLETED,
    (C.DISPATCHED, C.FAILED): EventType.CONTACT_FAILED,
    (C.DISPATCHED, C.SKIPPED): EventType.CONTACT_SKIPPED,
    (C.DISPATCHED, C.PREDIAL_FAILED): EventType.CONTACT_PREDIAL_FAILED,
}

S = CampaignStatus
ACTIVE = (S.SCHEDULED, S.IN_PROGRESS, S.PAUSED)
CAMPAIGN_EVENTS: dict[tuple[S, S], EventType] = {
    (S.SCHEDULED, S.IN_PROGRESS): EventType.CAMPAIGN_STARTED,
    **{(before, S.ENDED): EventType.CAMPAIGN_ENDED for before in ACTIVE},
    **{(before, S.CANCELLED): EventType.CAMPAIGN_CANCELLED for before in ACTIVE},
    **{(before, S.ARCHIVED): EventType.CAMPAIGN_ARCHIVED for before in S if before != S.ARCHIVED},
}


@pytest.mark.parametrize(("before", "after"), list(itertools.product(C, C)))
def test_every_contact_move_is_its_event_or_none(before: C, after: C) -> None:
    assert contact_event_type(before, after) == CONTACT_EVENTS.get((before, after))


def test_a_move_back_to_waiting_is_no_event() -> None:
    assert contact_event_type(C.DISPATCHED, C.PENDING) is None


def test_a_terminal_event_comes_only_from_a_move_that_ends_an_open_contact() -> None:
    """So a contact has one: an ended contact never moves again."""
    terminal = [
        (before, after)
        for (before, after), event in CONTACT_EVENTS.items()
        if event in TERMINAL_CONTACT_EVENTS
    ]
    assert {before for before, _ in terminal} == {C.PENDING, C.DISPATCHED}
    assert {after for _, after in terminal} == {C.COMPLETED, C.FAILED, C.SKIPPED, C.PREDIAL_FAILED}


@pytest.mark.parametrize(("before", "after"), list(itertools.product(S, S)))
def test_every_campaign_move_is_its_event_or_none(before: S, after: S) -> None:
    assert campaign_event_type(before, after) == CAMPAIGN_EVENTS.get((before, after))
