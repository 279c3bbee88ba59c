"""Rules a campaign request must satisfy; every broken rule is reported, nothing is written.

Rules on a single field live on the schemas, so that pydantic reports them together; the
rules here need the whole parsed body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from orchestrator.campaigns.duplicate import CampaignSetup, extensions_of
from orchestrator.campaigns.schemas import CreateCampaignIn, UpdateCampaignIn, UpdateStatus
from orchestrator.campaigns.text_plans import channel_errors, template_errors
from orchestrator.contacts.service import CustomerBatch, NewContact, normalize_customers
from orchestrator.exceptions import ValidationFailed
from orchestrator.models import Campaign, CampaignStatus

# The rules between a create's top-level fields (``presence.py``: v1's or v2's).
PresenceRules = Callable[[Mapping[str, Any]], list[str]]
# An update's rules beyond v1's (v2 refuses what only v1 has).
UpdateRules = Callable[[UpdateCampaignIn], list[str]]


def _customer_batches(body: CreateCampaignIn, caller: str | None) -> list[CustomerBatch]:
    """Every customer given, even where the body is wrong elsewhere, so all are checked."""
    batches = [
        CustomerBatch(f"dialPlan.{i}.customers", entry.phone_number_id, entry.customers)
        for i, entry in enumerate(body.dial_plan or [])
    ]
    if body.customers:
        batches.append(CustomerBatch("customers", caller, body.customers))
    return batches


def _setup_errors(setup: CampaignSetup, rules: PresenceRules) -> list[str]:
    errors = rules(setup.fields)
    if errors and setup.source is not None:
        errors.append(
            f"fields not given are those of campaign {setup.source.id} (duplicateFromCampaignId)"
        )
    return setup.errors + errors


def validate_create(
    body: CreateCampaignIn, setup: CampaignSetup, *, rules: PresenceRules, max_customers: int
) -> list[NewContact]:
    """The request's contacts (none when they are copied), once every rule holds."""
    errors = _setup_errors(setup, rules)
    batches = _customer_batches(body, setup.columns["phone_number_id"])
    errors += [f"{batch.path} should not be empty" for batch in batches if not batch.customers]
    if sum(len(batch.customers) for batch in batches) > max_customers:
        # Checking each of an oversized list would only delay the one answer that matters.
        errors.append(f"customers must contain no more than {max_customers} elements")
        raise ValidationFailed(errors)
    contacts, customer_errors = normalize_customers(batches)
    errors += customer_errors + _text_errors(setup, contacts)
    if errors:
        raise ValidationFailed(errors)
    return contacts


def _text_errors(setup: CampaignSetup, contacts: list[NewContact]) -> list[str]:
    """The channel's rules, and the templates rendered for every contact given (contacts
    copied from another campaign are rendered when their text is queued)."""
    columns = setup.columns
    extensions = columns["extensions"]
    return channel_errors(channel=columns["channel"], extensions=extensions) + template_errors(
        extensions=extensions,
        campaign_overrides=columns["assistant_overrides"],
        customers=[contact.customer for contact in contacts],
    )


def text_update_errors(
    campaign: Campaign, body: UpdateCampaignIn, *, customers: Sequence[dict[str, Any]]
) -> list[str]:
    """A plan patched in must suit the campaign's channel and render for its contacts."""
    changed = extensions_of(body)
    extensions = {**(campaign.extensions or {}), **changed}
    errors = channel_errors(channel=campaign.channel, extensions=extensions)
    return errors + template_errors(
        extensions=changed, campaign_overrides=campaign.assistant_overrides, customers=customers
    )


def validate_update(
    campaign: Campaign,
    body: UpdateCampaignIn,
    *,
    rules: UpdateRules | None = None,
    customers: Sequence[dict[str, Any]] = (),
) -> None:
    errors = rules(body) if rules is not None else []
    errors += text_update_errors(campaign, body, customers=customers)
    scheduled = campaign.status == CampaignStatus.SCHEDULED
    if body.dial_plan is not None:
        errors.append("dialPlan cannot be changed after creation")
    if body.phone_number_id is not None and campaign.uses_dial_plan:
        errors.append("phoneNumberId cannot be set on a campaign that has a dialPlan")
    elif body.phone_number_id is not None and not scheduled:
        errors.append("phoneNumberId can only change while the campaign is scheduled")
    targets = {"assistant_id", "workflow_id", "squad_id"} & body.model_fields_set
    if targets:
        if not scheduled:
            errors.append("assistantId, workflowId and squadId can only change while scheduled")
        chosen = [getattr(body, field) for field in targets if getattr(body, field) is not None]
        if len(chosen) != 1:
            errors.append("exactly one of assistantId, workflowId or squadId must be provided")
    if body.schedule_plan is not None and not scheduled:
        errors.append("schedulePlan can only change while the campaign is scheduled")
    if body.status is not None:
        errors += _status_errors(campaign, body.status)
    if errors:
        raise ValidationFailed(errors)


def _status_errors(campaign: Campaign, status: UpdateStatus) -> list[str]:
    current = campaign.status
    if current not in (CampaignStatus.SCHEDULED, CampaignStatus.IN_PROGRESS, CampaignStatus.PAUSED):
        return [f"status cannot be changed: campaign is {current}"]
    if status == UpdateStatus.PAUSED and current == CampaignStatus.PAUSED:
        return ["campaign is already paused"]
    if status in (UpdateStatus.IN_PROGRESS, UpdateStatus.SCHEDULED) and current != (
        CampaignStatus.PAUSED
    ):
        return [f"status can only be set to {status} to resume a paused campaign"]
    return []
