"""The gate at send time: the exact check, made the instant before the provider is called.

The caller holds the org's suppression lock shared (``suppression.gate_lock.hold_for_send``)
on a connection of its own from before this check until the provider has answered the create,
so an entry committed after the check waits for the send, and one committed before it is seen.
This check runs in a short transaction of its own: under the number's lock it reads the
suppression list and the ledger and, if the call may go, records its attempt, then commits,
so the next check of the number (any worker) counts it. A text passes the same check
(``channel`` ``sms``): its attempt is counted by the caps on texts, under the same hours.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.gate import repository
from orchestrator.gate.caps import CALL, Attempt, Cap, counted_channels, longest_period
from orchestrator.gate.decisions import (
    GateDecision,
    Prospect,
    Verdict,
    decide,
    listed_forms,
    recipient_key,
)
from orchestrator.gate.policy import caps_of, subject_caps_of
from orchestrator.models import Campaign, Org
from orchestrator.scheduling.calling_hours.opening import is_open, next_open
from orchestrator.scheduling.calling_hours.zone_key import contact_zone_key
from orchestrator.scheduling.policy import calling_hours_of, direct_calling_hours
from orchestrator.suppression.repository import suppressed_numbers

# How long a call whose hours will not open within the horizon waits before it is judged again.
HOURS_RECHECK = timedelta(hours=1)


@dataclass(frozen=True)
class SendTarget:
    call_id: uuid.UUID
    org_id: uuid.UUID
    campaign_id: uuid.UUID | None
    prospect: Prospect
    zone_key: str
    # What is sent: a call, or a text (``call_id`` is then the chat's id).
    channel: str = CALL


def send_target(session: Session, *, call_id: uuid.UUID) -> SendTarget | None:
    row = repository.send_target(session, call_id=call_id)
    return None if row is None else _target(call_id, row)


def send_targets(session: Session, *, call_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, SendTarget]:
    """``send_target`` of many calls in one read, in the order given (gone ones left out)."""
    rows = {row[0]: row[1:] for row in repository.send_targets(session, call_ids=call_ids)}
    return {call_id: _target(call_id, rows[call_id]) for call_id in call_ids if call_id in rows}


def _target(call_id: uuid.UUID, row: Sequence[Any]) -> SendTarget:
    org_id, campaign_id, contact_id, customer, window_end, zone_key = row
    number = customer.get("number")
    prospect = Prospect(
        id=contact_id or call_id,
        number=recipient_key(number),
        subject=campaign_id,
        window_end=window_end,
        listed_as=listed_forms(number),
    )
    if zone_key is None:  # a direct call's, as its contact's would be
        zone_key = contact_zone_key(number=number, customer_timezone=customer.get("timezone"))
    return SendTarget(call_id, org_id, campaign_id, prospect, zone_key)


def attempt_of(target: SendTarget, *, sent_at: datetime) -> dict[str, Any]:
    """The ledger row of a call ``pass_send_gate`` cleared without recording it."""
    return {
        "org_id": target.org_id,
        "number": target.prospect.number,
        "campaign_id": target.campaign_id,
        "call_id": target.call_id,
        "channel": target.channel,
        "sent_at": sent_at,
    }


def _attempts(
    session: Session, target: SendTarget, number: str, caps: tuple[Cap, ...], now: datetime
) -> list[Attempt]:
    rows = repository.attempts_since(
        session,
        org_id=target.org_id,
        numbers=[number],
        since=now - longest_period(caps),
        channels=counted_channels(caps),
        except_call=target.call_id,
    )
    return [
        Attempt(sent_at, campaign_id, channel=channel) for _, campaign_id, sent_at, channel in rows
    ]


def _hours_closed(
    target: SendTarget, campaign: Campaign | None, org: Org, now: datetime
) -> GateDecision | None:
    """Its calling hours closed since the claim (a wait for a rate slot, a provider's 429):
    it waits for them to open again, an hour at most before it is judged again."""
    hours = calling_hours_of(campaign, org) if campaign is not None else direct_calling_hours(org)
    if hours is None or is_open(hours, target.zone_key, now):
        return None
    opening = next_open(hours, target.zone_key, now) or now + HOURS_RECHECK
    return GateDecision(target.prospect, Verdict.CLOSED, opening)


def pass_send_gate(
    session: Session,
    *,
    target: SendTarget,
    now: datetime | None = None,
    listed: AbstractSet[str] | None = None,
    recipient_locked: bool = False,
    record: bool = True,
) -> GateDecision:
    """May the call go now? If so its attempt is recorded, sent now (``now`` is read once the
    number's lock is held, unless given); the caller commits and sends at once. ``listed``:
    the numbers of the org's list live at ``now``, when the caller read them for many calls
    (holding the org's suppression lock, so the list cannot change meanwhile). Without
    ``record`` the caller records a clear call's attempt (``attempt_of``) before the next
    check of its number."""
    number = target.prospect.number
    org = session.get(Org, target.org_id)
    if number is None or org is None:
        return GateDecision(target.prospect, Verdict.CLEAR)
    # Always, caps or not: a policy stored meanwhile is then read by the next check. (Unless
    # the caller locked it already, in this transaction: ``recipient_locked``.)
    if not recipient_locked:
        repository.lock_recipient(session, org_id=target.org_id, number=number)
    now = now or utcnow()
    campaign = session.get(Campaign, target.campaign_id) if target.campaign_id else None
    closed = _hours_closed(target, campaign, org, now)
    if closed is not None:
        return closed
    caps = caps_of(org, channel=target.channel)
    prospect = target.prospect
    # A legal profile's limits on one subject count its calls.
    in_zone = subject_caps_of(campaign, org) if target.channel == CALL else None
    subject_caps = in_zone(target.zone_key) if in_zone is not None else ()
    if subject_caps:
        prospect = replace(prospect, subject_caps=subject_caps)
    every_cap = (*caps, *subject_caps)
    forms = prospect.listed_as or (number,)
    suppressed = (
        bool(suppressed_numbers(session, org_id=org.id, numbers=forms, now=now))
        if listed is None
        else not listed.isdisjoint(forms)
    )
    counting = every_cap and not suppressed
    attempts = _attempts(session, target, number, every_cap, now) if counting else []
    decision = decide(prospect, suppressed=suppressed, caps=caps, attempts=attempts, now=now)
    if decision.clear and record:
        repository.record_attempt(
            session,
            org_id=target.org_id,
            number=number,
            campaign_id=target.campaign_id,
            call_id=target.call_id,
            sent_at=now,
            channel=target.channel,
        )
    return decision
