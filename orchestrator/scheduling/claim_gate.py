"""The compliance gate in the org's dispatch: who the candidates would call, and which of them
the gate lets through (``gate.claim``); the others are skipped or deferred right here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Row
from sqlalchemy.orm import Session

from orchestrator.gate.claim import screen
from orchestrator.gate.decisions import Prospect, listed_forms, recipient_key
from orchestrator.gate.outcomes import finish_campaigns, hold_back_contacts, hold_back_direct_calls
from orchestrator.gate.policy import caps_of, subject_caps_of
from orchestrator.models import Campaign, Org
from orchestrator.scheduling.capacity import CampaignDemand


def campaign_prospects(
    campaign: Campaign, org: Org, rows: Sequence[Row[uuid.UUID, str | None, str | None, str]]
) -> list[Prospect]:
    """The campaign's due contacts (``due_contacts`` rows) as the gate sees them."""
    in_zone = subject_caps_of(campaign, org)
    return [
        Prospect(
            contact_id,
            recipient_key(number),
            campaign.id,
            campaign.latest_at,
            in_zone(zone_key) if in_zone is not None else (),
            listed_forms(number),
        )
        for contact_id, _, number, zone_key in rows
    ]


def pass_claim_gate(
    session: Session,
    *,
    org: Org,
    demands: list[CampaignDemand],
    prospects: list[Prospect],
    now: datetime,
) -> tuple[list[CampaignDemand], dict[str, int]]:
    """The candidates the gate clears, and the attempts their numbers may still take now."""
    screening = screen(session, org_id=org.id, caps=caps_of(org), prospects=prospects, now=now)
    if not screening.held:
        return demands, screening.attempts_left
    contacts = [d for d in screening.held if not d.prospect.is_direct_call]
    finish_campaigns(session, hold_back_contacts(session, contacts, now=now))
    direct = [d for d in screening.held if d.prospect.is_direct_call]
    hold_back_direct_calls(session, direct, now=now)
    held = screening.held_ids()
    cleared = [
        replace(demand, candidates=[c for c in demand.candidates if c.id not in held])
        for demand in demands
    ]
    return cleared, screening.attempts_left
