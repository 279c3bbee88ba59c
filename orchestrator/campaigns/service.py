"""Campaign use cases: create, list, get, update, delete. Services never commit."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.campaigns import counter_repository, repository, text_repository
from orchestrator.campaigns.counters import counter_deltas, counters_to_wire, drift_to_wire
from orchestrator.campaigns.duplicate import (
    CampaignSetup,
    audience_columns,
    campaign_setup,
    extensions_of,
    source_id_of,
)
from orchestrator.campaigns.presence import presence_errors
from orchestrator.campaigns.reconcile import reconcile_campaign
from orchestrator.campaigns.schemas import (
    CampaignListQuery,
    CreateCampaignIn,
    UpdateCampaignIn,
    UpdateStatus,
)
from orchestrator.campaigns.states import (
    CampaignEvent,
    CampaignTransition,
    InvalidCampaignTransition,
    next_campaign_state,
)
from orchestrator.campaigns.text_plans import texts_of
from orchestrator.campaigns.validation import (
    PresenceRules,
    UpdateRules,
    validate_create,
    validate_update,
)
from orchestrator.campaigns.wire import CustomerEntry, campaign_to_wire, list_envelope
from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.contacts import repository as contacts_repo
from orchestrator.contacts.closing import close_pending_contacts
from orchestrator.contacts.service import NewContact
from orchestrator.events.recording import record_campaign_change
from orchestrator.exceptions import NotFound, ValidationFailed, id_or_not_found
from orchestrator.models import (
    Call,
    Campaign,
    CampaignCounters,
    CampaignEndedReason,
    CampaignStatus,
    ContactStatus,
    Org,
)
from orchestrator.phone_numbers import repository as phone_numbers_repo
from orchestrator.reasons import CAMPAIGN_STOPPED
from orchestrator.scheduling.cancellation import release_unsent_calls, return_unsent_calls
from orchestrator.scheduling.insight import pacing_insight
from orchestrator.texts.withdrawal import withdraw_campaign_texts


def create_campaign(
    session: Session,
    *,
    org_id: uuid.UUID,
    body: CreateCampaignIn,
    rules: PresenceRules = presence_errors,
) -> dict[str, Any]:
    """``POST /campaign`` (and ``/v2/campaign``, with its ``rules``): a new scheduled campaign,
    or a paused one when asked (``status``), which may wait for its customers."""
    setup = _setup(session, org_id, body)
    contacts = validate_create(
        body, setup, rules=rules, max_customers=get_settings().max_customers_per_request
    )
    paused = body.status == "paused"
    campaign = repository.add_campaign(
        session,
        Campaign(
            id=uuid.uuid4(),
            org_id=org_id,
            name=body.name,
            status=CampaignStatus.PAUSED if paused else CampaignStatus.SCHEDULED,
            paused_at=utcnow() if paused else None,
            **setup.columns,
            **audience_columns(setup, contacts),
        ),
    )
    customers = _add_contacts(session, campaign, setup, contacts)
    initial = counter_deltas(contact_after=ContactStatus.PENDING) * campaign.contacts_total
    counter_repository.add_counter_shards(session, campaign_id=campaign.id, initial=initial)
    phone_numbers_repo.ensure_phone_numbers(
        session, org_id=org_id, provider_ids=campaign.caller_number_ids
    )
    counters = CampaignCounters(**initial)
    return campaign_to_wire(campaign, counters=counters, calls=[], customers=customers)


def _setup(session: Session, org_id: uuid.UUID, body: CreateCampaignIn) -> CampaignSetup:
    source_id = source_id_of(body)
    source = (
        repository.get_campaign(session, org_id=org_id, campaign_id=source_id)
        if source_id is not None
        else None
    )
    return campaign_setup(body, source, now=utcnow())


def _add_contacts(
    session: Session, campaign: Campaign, setup: CampaignSetup, contacts: list[NewContact]
) -> list[CustomerEntry]:
    """The campaign's contacts written: the request's, or copies of the duplicated campaign's."""
    if setup.source is None or not setup.copies_contacts:
        contacts_repo.copy_contacts(
            session, campaign_id=campaign.id, org_id=campaign.org_id, contacts=contacts
        )
        return [(contact.phone_number_id, contact.customer) for contact in contacts]
    contacts_repo.copy_campaign_contacts(
        session,
        source_id=setup.source.id,
        campaign_id=campaign.id,
        phone_number_id=setup.copied_caller,
    )
    by_campaign = contacts_repo.customers_by_campaign(session, campaign_ids=[campaign.id])
    return by_campaign.get(campaign.id, [])


def require_campaign(
    session: Session, org_id: uuid.UUID, campaign_id: str, *, lock: bool
) -> Campaign:
    """The org's campaign of this path id; a 404 when it has none (archived ones are gone)."""
    parsed = id_or_not_found(campaign_id, message="Campaign not found")
    campaign = repository.get_campaign(session, org_id=org_id, campaign_id=parsed, for_update=lock)
    if campaign is None:
        raise NotFound("Campaign not found")
    return campaign


def _to_wire(session: Session, campaign: Campaign) -> dict[str, Any]:
    calls = repository.calls_of_campaigns(session, campaign_ids=[campaign.id])
    customers = contacts_repo.customers_by_campaign(session, campaign_ids=[campaign.id]).get(
        campaign.id, []
    )
    counters = counter_repository.counters_of(session, campaign_ids=[campaign.id])[campaign.id]
    org = session.get(Org, campaign.org_id)
    pacing = (
        pacing_insight(session, campaign=campaign, org=org, now=utcnow(), counters=counters)
        if org is not None
        else None
    )
    return campaign_to_wire(
        campaign,
        counters=counters,
        calls=calls,
        customers=customers,
        pacing=pacing,
        sms_counters=sms_counters_of(session, campaign),
    )


def sms_counters_of(session: Session, campaign: Campaign) -> dict[str, int] | None:
    """``smsCounters`` of a campaign that texts; None (left out) for one that does not."""
    if not texts_of(campaign.channel, campaign.extensions):
        return None
    return text_repository.sms_counters(session, campaign_id=campaign.id)


def get_campaign(session: Session, *, org_id: uuid.UUID, campaign_id: str) -> dict[str, Any]:
    return _to_wire(session, require_campaign(session, org_id, campaign_id, lock=False))


def reconcile(session: Session, *, org_id: uuid.UUID, campaign_id: str) -> dict[str, Any]:
    """``POST /campaign/{id}/reconcile`` (extension): recount now, correct, report the drift."""
    campaign = require_campaign(session, org_id, campaign_id, lock=False)
    drift = reconcile_campaign(session, campaign_id=campaign.id)
    counters = counter_repository.counters_of(session, campaign_ids=[campaign.id])[campaign.id]
    return {
        "campaignId": str(campaign.id),
        "drift": drift_to_wire(drift),
        "counters": counters_to_wire(counters, contacts_total=campaign.contacts_total),
    }


def list_campaigns(
    session: Session, *, org_id: uuid.UUID, query: CampaignListQuery
) -> dict[str, Any]:
    campaigns, total = repository.list_campaigns(session, org_id=org_id, query=query)
    ids = [c.id for c in campaigns]
    by_campaign: dict[uuid.UUID, list[Call]] = {}
    for call in repository.calls_of_campaigns(session, campaign_ids=ids):
        if call.campaign_id is not None:
            by_campaign.setdefault(call.campaign_id, []).append(call)
    customers = contacts_repo.customers_by_campaign(session, campaign_ids=ids)
    counters = counter_repository.counters_of(session, campaign_ids=ids)
    results = [
        campaign_to_wire(
            c,
            counters=counters[c.id],
            calls=by_campaign.get(c.id, []),
            customers=customers.get(c.id, []),
        )
        for c in campaigns
    ]
    return list_envelope(results, total=total, query=query)


def stop_campaign(session: Session, *, campaign: Campaign, event: CampaignEvent) -> None:
    """End or cancel by the user: pending contacts are skipped, texts not yet being sent are
    withdrawn (their contacts skipped); calls and texts in flight finish."""
    move = _move(campaign, event)
    before = campaign.status
    # Stopped first: the calls released below must not end it as done meanwhile.
    campaign.status = move.status
    campaign.ended_reason = move.ended_reason
    campaign.ended_at = now = utcnow()
    session.flush()
    close_pending_contacts(session, campaign_id=campaign.id, reason=CAMPAIGN_STOPPED)
    release_unsent_calls(session, campaign_id=campaign.id, reason=CAMPAIGN_STOPPED)
    withdraw_campaign_texts(session, campaign_id=campaign.id, reason=CAMPAIGN_STOPPED, now=now)
    record_campaign_change(
        session,
        campaign_id=campaign.id,
        before=before,
        after=move.status,
        ended_reason=move.ended_reason,
    )


def update_campaign(
    session: Session,
    *,
    org_id: uuid.UUID,
    campaign_id: str,
    body: UpdateCampaignIn,
    rules: UpdateRules | None = None,
) -> dict[str, Any]:
    campaign = require_campaign(session, org_id, campaign_id, lock=True)
    validate_update(
        campaign, body, rules=rules, customers=_customers_to_render(session, body, campaign)
    )
    if body.name is not None:
        campaign.name = body.name
    for field in ("assistant_id", "workflow_id", "squad_id"):
        if field in body.model_fields_set:
            setattr(campaign, field, getattr(body, field))
    if body.phone_number_id is not None:
        _change_caller(session, campaign, body.phone_number_id)
    if body.schedule_plan is not None:
        campaign.earliest_at = body.schedule_plan.earliest_at
        campaign.latest_at = body.schedule_plan.latest_at
    extensions = extensions_of(body)
    if extensions:
        campaign.extensions = {**(campaign.extensions or {}), **extensions}
    if body.status is not None:
        _change_status(session, campaign, body.status)
    campaign.updated_at = utcnow()
    session.flush()
    session.refresh(campaign)
    return _to_wire(session, campaign)


def _customers_to_render(
    session: Session, body: UpdateCampaignIn, campaign: Campaign
) -> list[dict[str, Any]]:
    """The campaign's customers, when the update brings a template to render for each."""
    if body.sms_plan is None and body.follow_up_plan is None:
        return []
    entries = contacts_repo.customers_by_campaign(session, campaign_ids=[campaign.id])
    return [customer for _, customer in entries.get(campaign.id, [])]


def _change_status(session: Session, campaign: Campaign, status: UpdateStatus) -> None:
    if status in (UpdateStatus.ENDED, UpdateStatus.CANCELLED):
        event = (
            CampaignEvent.END_BY_USER
            if status == UpdateStatus.ENDED
            else CampaignEvent.CANCEL_BY_USER
        )
        stop_campaign(session, campaign=campaign, event=event)
    elif status == UpdateStatus.PAUSED:
        pause_campaign(session, campaign=campaign)
    else:
        resume_campaign(campaign=campaign)


def pause_campaign(session: Session, *, campaign: Campaign) -> None:
    """No new dials; calls already sent finish; calls claimed but not sent go back to waiting."""
    move = _move(campaign, CampaignEvent.PAUSE)
    return_unsent_calls(session, campaign_id=campaign.id)
    campaign.status = move.status
    campaign.paused_at = utcnow()


def resume_campaign(*, campaign: Campaign) -> None:
    move = _move(campaign, CampaignEvent.RESUME)
    campaign.status = move.status
    campaign.paused_at = None


def _move(campaign: Campaign, event: CampaignEvent) -> CampaignTransition:
    try:
        return next_campaign_state(campaign.status, event, started=campaign.started_at is not None)
    except InvalidCampaignTransition as exc:
        raise ValidationFailed(
            [f"status cannot be changed: campaign is {campaign.status}"]
        ) from exc


def _change_caller(session: Session, campaign: Campaign, phone_number_id: str) -> None:
    """Only a scheduled campaign gets here, so none of its contacts has been dialed yet."""
    contacts_repo.set_caller_of_pending(
        session, campaign_id=campaign.id, phone_number_id=phone_number_id
    )
    phone_numbers_repo.ensure_phone_numbers(
        session, org_id=campaign.org_id, provider_ids=[phone_number_id]
    )
    campaign.phone_number_id = phone_number_id
    # The tick dials only the numbers listed here: every contact now calls from the new one.
    campaign.caller_number_ids = [phone_number_id]


def delete_campaign(session: Session, *, org_id: uuid.UUID, campaign_id: str) -> dict[str, Any]:
    campaign = require_campaign(session, org_id, campaign_id, lock=True)
    if campaign.status in repository.ACTIVE_STATUSES:
        stop_campaign(session, campaign=campaign, event=CampaignEvent.CANCEL_BY_USER)
    reason = CampaignEndedReason(campaign.ended_reason) if campaign.ended_reason else None
    move = next_campaign_state(
        campaign.status, CampaignEvent.ARCHIVE, reason, started=campaign.started_at is not None
    )
    record_campaign_change(
        session, campaign_id=campaign.id, before=campaign.status, after=move.status
    )
    campaign.status = move.status
    campaign.ended_reason = move.ended_reason
    campaign.archived_at = utcnow()
    campaign.updated_at = utcnow()
    session.flush()
    session.refresh(campaign)
    return _to_wire(session, campaign)
