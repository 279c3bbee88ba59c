"""Rules a campaign request must satisfy; every broken rule is reported, nothing is written."""

from __future__ import annotations

from orchestrator.campaigns.schemas import CreateCampaignIn, SchedulePlanIn, UpdateCampaignIn
from orchestrator.contacts.service import CustomerBatch, NewContact, normalize_customers
from orchestrator.exceptions import ValidationFailed
from orchestrator.models import Campaign, CampaignStatus

TARGET_FIELDS = ("assistantId", "workflowId", "squadId")


def _target_errors(body: CreateCampaignIn) -> list[str]:
    given = [body.assistant_id, body.workflow_id, body.squad_id]
    if sum(value is not None for value in given) != 1:
        return ["exactly one of assistantId, workflowId or squadId must be provided"]
    return []


def _schedule_errors(plan: SchedulePlanIn | None) -> list[str]:
    if plan is None:
        return []
    errors = []
    for name, value in (("earliestAt", plan.earliest_at), ("latestAt", plan.latest_at)):
        if value is not None and value.tzinfo is None:
            errors.append(f"schedulePlan.{name} must include a timezone offset (e.g. Z)")
    if plan.latest_at is not None and plan.latest_at <= plan.earliest_at:
        errors.append("schedulePlan.latestAt must be after schedulePlan.earliestAt")
    return errors


def _customer_batches(body: CreateCampaignIn) -> tuple[list[CustomerBatch], list[str]]:
    if body.dial_plan is not None and body.phone_number_id is not None:
        return [], ["exactly one of phoneNumberId or dialPlan must be provided"]
    if body.dial_plan is not None:
        errors = ["customers must not be given with dialPlan"] if body.customers else []
        if not body.dial_plan:
            errors.append("dialPlan should not be empty")
        batches = [
            CustomerBatch(f"dialPlan.{i}.customers", entry.phone_number_id, entry.customers)
            for i, entry in enumerate(body.dial_plan)
        ]
        return batches, errors
    if body.phone_number_id is None:
        errors = ["exactly one of phoneNumberId or dialPlan must be provided"]
        return [CustomerBatch("customers", None, body.customers or [])], errors
    if not body.customers:
        return [], ["customers should not be empty"]
    return [CustomerBatch("customers", body.phone_number_id, body.customers)], []


def validate_create(body: CreateCampaignIn, *, max_customers: int) -> list[NewContact]:
    errors = _target_errors(body) + _schedule_errors(body.schedule_plan)
    if body.duplicate_from_campaign_id is not None:
        errors.append("duplicateFromCampaignId is not supported")
    batches, batch_errors = _customer_batches(body)
    errors += batch_errors
    total = sum(len(batch.customers) for batch in batches)
    if total > max_customers:
        errors.append(f"customers must contain no more than {max_customers} elements")
        batches = []
    if any(not batch.customers for batch in batches):
        errors.extend(
            f"{batch.path} should not be empty" for batch in batches if not batch.customers
        )
    contacts, customer_errors = normalize_customers(batches)
    errors += customer_errors
    if errors:
        raise ValidationFailed(errors)
    return contacts


def validate_update(campaign: Campaign, body: UpdateCampaignIn) -> None:
    errors = _schedule_errors(body.schedule_plan)
    scheduled = campaign.status == CampaignStatus.SCHEDULED
    if body.dial_plan is not None or body.phone_number_id is not None:
        errors.append("phoneNumberId and dialPlan cannot be changed after creation")
    targets = {"assistant_id", "workflow_id", "squad_id"} & body.model_fields_set
    if targets:
        if not scheduled:
            errors.append("assistantId, workflowId and squadId can only change while scheduled")
        chosen = [getattr(body, field) for field in targets if getattr(body, field) is not None]
        if len(chosen) != 1:
            errors.append("exactly one of assistantId, workflowId or squadId must be provided")
    if body.schedule_plan is not None and not scheduled:
        errors.append("schedulePlan can only change while the campaign is scheduled")
    if body.status is not None and campaign.status not in (
        CampaignStatus.SCHEDULED,
        CampaignStatus.IN_PROGRESS,
    ):
        errors.append(f"status cannot be changed: campaign is {campaign.status}")
    if errors:
        raise ValidationFailed(errors)
