"""Direct calls (``POST /call``) in the org's dispatch: the same limits, a fair share.

Direct calls compete for the org's capacity as one more claimant beside its campaigns, under
every limit campaigns obey (the org's concurrency limit, each caller number's cap and rate).
They wait in the database like contacts: ``scheduled`` with an optional not-before time. Under
the org's calling hours (its default profile, else its default policy when switched on; see
``policy.direct_calling_hours``), a call whose customer is outside them is not claimed: it is
moved to the next opening, and one still waiting at its ``schedulePlan.latestAt`` ends there.
The compliance gate judges them as it does contacts: the org's direct calls are one
subject of its frequency caps.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from orchestrator.calls import repository as calls_repo
from orchestrator.calls.service import fail_call
from orchestrator.gate.caps import Cap
from orchestrator.gate.decisions import Prospect, listed_forms, recipient_key
from orchestrator.gate.policy import SubjectCaps, subject_caps_of
from orchestrator.models import Call, Org
from orchestrator.reasons import WINDOW_CLOSED, WINDOW_CLOSED_MESSAGE
from orchestrator.scheduling.calling_hours.opening import is_open, next_open
from orchestrator.scheduling.calling_hours.schemas import CallingHoursIn
from orchestrator.scheduling.calling_hours.zone_key import contact_zone_key
from orchestrator.scheduling.capacity import CampaignDemand, Candidate
from orchestrator.scheduling.policy import direct_calling_hours

# The claimant key of an org's direct calls in the fair share (no campaign has this id).
DIRECT_CALLS = uuid.UUID(int=0)
# Calling hours that never open again within their horizon: look again a day later.
NEVER_OPEN_RETRY = timedelta(days=1)


def direct_demand(
    session: Session,
    *,
    org: Org,
    in_flight: int,
    limits: Mapping[str | None, int],
    now: datetime,
) -> tuple[CampaignDemand, list[Prospect]]:
    """The org's due direct calls, oldest first, as candidates for the fair share, and as the
    compliance gate sees them."""
    calls = calls_repo.due_direct_calls(session, org_id=org.id, limits=limits, now=now)
    hours = direct_calling_hours(org)
    due = [call for call in calls if inside_calling_hours(session, call=call, hours=hours, now=now)]
    in_zone = subject_caps_of(None, org)
    prospects = [_prospect(call, in_zone) for call in due]
    demand = CampaignDemand(
        campaign_id=DIRECT_CALLS,
        in_flight=in_flight,
        max_concurrency=org.concurrency_limit,
        candidates=[
            Candidate(call.id, call.phone_number_id, prospect.number)
            for call, prospect in zip(due, prospects, strict=True)
        ],
    )
    return demand, prospects


def _prospect(call: Call, in_zone: SubjectCaps | None) -> Prospect:
    """A direct call as the gate sees it: one subject with the org's other direct calls, its
    window ending at its ``schedulePlan.latestAt``."""
    customer = call.customer or {}
    number = customer.get("number")
    subject_caps: tuple[Cap, ...] = ()
    if in_zone is not None:
        zone = contact_zone_key(number=number, customer_timezone=customer.get("timezone"))
        subject_caps = in_zone(zone)
    return Prospect(
        call.id, recipient_key(number), None, call.not_after, subject_caps, listed_forms(number)
    )


def inside_calling_hours(
    session: Session, *, call: Call, hours: CallingHoursIn | None, now: datetime
) -> bool:
    """True when the call may go now; otherwise it is deferred to its customer's next opening."""
    if hours is None:
        return True
    customer = call.customer or {}
    zone = contact_zone_key(
        number=customer.get("number"), customer_timezone=customer.get("timezone")
    )
    if is_open(hours, zone, now):
        return True
    opening = next_open(hours, zone, now) or now + NEVER_OPEN_RETRY
    calls_repo.defer_direct_call(session, call_id=call.id, until=opening)
    return False


def expire_direct_calls(session: Session, *, now: datetime) -> int:
    """Direct calls still waiting at their ``schedulePlan.latestAt`` are never placed."""
    expired = 0
    for call in calls_repo.expired_direct_calls_for_update(session, now=now):
        expired += fail_call(
            session,
            call,
            reason=WINDOW_CLOSED,
            message=WINDOW_CLOSED_MESSAGE,
            unsent=True,
        )
    return expired
