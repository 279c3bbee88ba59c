"""An sms campaign's due contacts claimed within its window and calling hours, each with one
text queued in a new session instead of a call.

Texts are not bounded by ``maxConcurrency`` (they hold no line) but by each caller number's
messages per second (``texts.pending``). The sender settles each contact when its text
ends (``texts.contacts.settle_text_contacts``); a template that no longer renders for a
contact (a plan patched in, contacts copied) fails the contact at once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from orchestrator.campaigns import counter_repository
from orchestrator.campaigns.counters import counter_deltas
from orchestrator.campaigns.text_plans import SmsPlanIn, sms_plan_of
from orchestrator.contacts import repository as contacts_repo
from orchestrator.contacts.repository import DueGroup
from orchestrator.contacts.states import ContactEvent, next_contact_status
from orchestrator.decisions.recording import Decision, record_decisions
from orchestrator.events.recording import ContactChange, record_contact_changes
from orchestrator.gate.claim import screen
from orchestrator.gate.decisions import Prospect, listed_forms, recipient_key
from orchestrator.gate.outcomes import finish_campaigns, hold_back_contacts
from orchestrator.gate.policy import caps_of
from orchestrator.models import Campaign, Contact, ContactStatus, DecisionKind, Org, TextPurpose
from orchestrator.models.recipient_attempt import SMS_CHANNEL
from orchestrator.texts.follow_ups import sms_transport
from orchestrator.texts.pending import text_allowances
from orchestrator.texts.service import TextRequest, queue_text
from orchestrator.texts.templates import TemplateError, render_text

logger = logging.getLogger(__name__)

TEMPLATE_FAILED = "template"

# A due contact as ``due_contacts`` reads it: (id, caller number, number, zone key).
DueRow = Row[uuid.UUID, str | None, str | None, str]


def dispatch_texts(
    session: Session,
    *,
    org: Org,
    campaigns: Sequence[Campaign],
    zone_keys: dict[uuid.UUID, list[str]],
    now: datetime,
    batch_limit: int,
) -> list[uuid.UUID]:
    """Claim the sms campaigns' due contacts, each with one queued text; the texts' ids."""
    if not campaigns:
        return []
    callers = sorted(
        {caller for c in campaigns for caller in c.caller_number_ids_to_dial()},
        key=lambda caller: caller or "",
    )
    allowances = text_allowances(session, org_id=org.id, caller_number_ids=callers)
    chat_ids: list[uuid.UUID] = []
    for campaign in campaigns:
        plan = sms_plan_of(campaign.extensions)
        if plan is None:
            continue
        rows = _due(session, campaign, zone_keys[campaign.id], allowances, now, batch_limit)
        held = _held_back(session, org, campaign, rows, now)
        contact_ids = [row[0] for row in rows if row[0] not in held]
        chat_ids += claim_texts(
            session, campaign=campaign, plan=plan, contact_ids=contact_ids, now=now
        )
    return chat_ids


def _held_back(
    session: Session, org: Org, campaign: Campaign, rows: Sequence[DueRow], now: datetime
) -> set[uuid.UUID]:
    """The gate at the claim, as for calls: a contact whose number is suppressed ends skipped,
    one the caps on texts allow nothing now waits; neither gets a text. (The send-time check
    still decides, exactly, for those that do.)"""
    prospects = [
        Prospect(
            contact_id,
            recipient_key(number),
            campaign.id,
            campaign.latest_at,
            listed_as=listed_forms(number),
        )
        for contact_id, _, number, _ in rows
    ]
    caps = caps_of(org, channel=SMS_CHANNEL)
    screening = screen(session, org_id=org.id, caps=caps, prospects=prospects, now=now)
    if not screening.held:
        return set()
    finish_campaigns(session, hold_back_contacts(session, screening.held, now=now))
    return screening.held_ids()


def _due(
    session: Session,
    campaign: Campaign,
    zone_keys: list[str],
    allowances: dict[str | None, int],
    now: datetime,
    batch_limit: int,
) -> list[DueRow]:
    """Due contacts in due order, no more per caller number than its allowance (updated)."""
    groups = [
        DueGroup(caller, zone_key, min(batch_limit, allowances[caller]))
        for caller in campaign.caller_number_ids_to_dial()
        for zone_key in zone_keys
    ]
    rows = contacts_repo.due_contacts(session, campaign_id=campaign.id, groups=groups, now=now)
    chosen: list[DueRow] = []
    for row in rows:
        caller = row[1]
        key = caller if caller in allowances else campaign.phone_number_id
        if allowances.get(key, 0) > 0 and len(chosen) < batch_limit:
            allowances[key] -= 1
            chosen.append(row)
    return chosen


def claim_texts(
    session: Session,
    *,
    campaign: Campaign,
    plan: SmsPlanIn,
    contact_ids: Sequence[uuid.UUID],
    now: datetime,
) -> list[uuid.UUID]:
    """Pending contacts become dispatched with one queued text each (counters move with
    them); one whose template does not render fails."""
    rows = contacts_repo.claim_contacts(session, contact_ids=contact_ids)
    changes = [
        ContactChange(contact_id, campaign.id, ContactStatus.PENDING, ContactStatus.DISPATCHED)
        for contact_id, *_ in rows
    ]
    chat_ids: list[uuid.UUID] = []
    decisions: list[Decision] = []
    failed: list[tuple[uuid.UUID, str]] = []
    for contact_id, _, _, caller, customer in rows:
        try:
            text = render_text(
                plan.input, customer=customer, campaign_overrides=campaign.assistant_overrides
            )
        except TemplateError as error:
            failed.append((contact_id, f"{TEMPLATE_FAILED}: {error}"))
            continue
        chat = queue_text(
            session,
            request=_request(campaign, plan, contact_id, caller, customer, text),
            now=now,
        )
        chat_ids.append(chat.id)
        decisions.append(
            Decision(contact_id, DecisionKind.CLAIMED, detail={"chatId": str(chat.id)})
        )
    record_decisions(session, decisions)
    claimed = counter_deltas(
        contact_before=ContactStatus.PENDING, contact_after=ContactStatus.DISPATCHED
    )
    counter_repository.bump_counters(session, campaign_id=campaign.id, deltas=claimed * len(rows))
    changes += _fail_unrendered(session, campaign, failed)
    record_contact_changes(session, changes)
    return chat_ids


def _request(
    campaign: Campaign,
    plan: SmsPlanIn,
    contact_id: uuid.UUID,
    caller: str | None,
    customer: dict[str, Any],
    text: str,
) -> TextRequest:
    phone_number_id = caller or campaign.phone_number_id
    return TextRequest(
        org_id=campaign.org_id,
        input=text,
        phone_number_id=phone_number_id,
        customer=customer,
        transport=sms_transport(
            use_llm=plan.use_llm_generated_message_for_outbound,
            phone_number_id=phone_number_id,
            customer=customer,
        ),
        assistant_id=campaign.assistant_id,
        assistant_overrides=campaign.assistant_overrides,
        squad_id=campaign.squad_id,
        purpose=TextPurpose.CAMPAIGN,
        campaign_id=campaign.id,
        contact_id=contact_id,
    )


def _fail_unrendered(
    session: Session, campaign: Campaign, failed: list[tuple[uuid.UUID, str]]
) -> list[ContactChange]:
    """Claimed contacts whose text cannot be written end failed, with why."""
    if not failed:
        return []
    logger.warning("campaign %s: %d texts did not render", campaign.id, len(failed))
    changes: list[ContactChange] = []
    for contact in contacts_repo.lock_contacts(session, contact_ids=[c for c, _ in failed]):
        after = next_contact_status(contact.status, ContactEvent.FAIL)
        if after is None:
            continue
        changes.append(_fail(contact, after, dict(failed)[contact.id]))
    deltas = counter_deltas(
        contact_before=ContactStatus.DISPATCHED, contact_after=ContactStatus.FAILED
    )
    counter_repository.bump_counters(session, campaign_id=campaign.id, deltas=deltas * len(changes))
    return changes


def _fail(contact: Contact, after: ContactStatus, reason: str) -> ContactChange:
    before = contact.status
    contact.status = after
    contact.status_reason = reason
    return ContactChange(contact.id, contact.campaign_id, before, after)
