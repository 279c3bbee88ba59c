"""A campaign's texts: ``channel: "sms"`` with its ``smsPlan`` (one text per contact instead of
a call), and a call campaign's ``followUpPlan`` (one text after a contact's calls end so).

Both plans are stored in ``Campaign.extensions`` as given (camelCase); the channel is a
column. A template must render for every contact, so it is rendered for each at creation
and every failure is reported with the contact it failed for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from orchestrator.calls.ended_reasons import ended_reason_table
from orchestrator.calls.retry_plan import RetryOnEntry, base_category
from orchestrator.models.recipient_attempt import SMS_CHANNEL
from orchestrator.texts.templates import TemplateError, parse_template, render_text
from orchestrator.wire import CAMEL_MODEL_CONFIG, Text

SMS_PLAN_EXTENSION = "smsPlan"
FOLLOW_UP_PLAN_EXTENSION = "followUpPlan"
Channel = Literal["call", "sms"]
# A text's body: long enough for a few concatenated SMS segments and some Liquid.
TEMPLATE_MAX_LENGTH = 4000
# Contacts named in one answer: the first ones show what is wrong with the rest.
MAX_CONTACT_ERRORS = 20


class SmsPlanIn(BaseModel):
    """What an sms campaign sends each contact (a Liquid template), as Vapi's SMS transport
    takes it."""

    model_config = CAMEL_MODEL_CONFIG

    input: Text = Field(min_length=1, max_length=TEMPLATE_MAX_LENGTH)
    use_llm_generated_message_for_outbound: bool = Field(
        False, alias="useLLMGeneratedMessageForOutbound"
    )


class FollowUpSmsIn(BaseModel):
    """The text sent after a contact's call ends with one of ``whenEndedReason`` (values or
    their categories from the endedReason table)."""

    model_config = CAMEL_MODEL_CONFIG

    when_ended_reason: list[RetryOnEntry] = Field(
        alias="whenEndedReason", min_length=1, max_length=200
    )
    input: Text = Field(min_length=1, max_length=TEMPLATE_MAX_LENGTH)
    # True: only once no retry follows (the contact's last attempt). False: after the first
    # attempt that ends so, a retry following or not. Either way one text per contact.
    after_final_attempt: bool = Field(True, alias="afterFinalAttempt")
    use_llm_generated_message_for_outbound: bool = Field(
        False, alias="useLLMGeneratedMessageForOutbound"
    )


class FollowUpPlanIn(BaseModel):
    model_config = CAMEL_MODEL_CONFIG

    sms: FollowUpSmsIn


def sms_plan_of(extensions: Mapping[str, Any] | None) -> SmsPlanIn | None:
    stored = (extensions or {}).get(SMS_PLAN_EXTENSION)
    return SmsPlanIn.model_validate(stored) if stored is not None else None


def follow_up_of(extensions: Mapping[str, Any] | None) -> FollowUpSmsIn | None:
    stored = (extensions or {}).get(FOLLOW_UP_PLAN_EXTENSION)
    return FollowUpPlanIn.model_validate(stored).sms if stored is not None else None


def follows_up(plan: FollowUpSmsIn, ended_reason: str | None) -> bool:
    """True when a call that ended with ``ended_reason`` is followed up by the plan's text."""
    if ended_reason is None:
        return False
    row = ended_reason_table().get(ended_reason)
    names = {ended_reason} if row is None else {ended_reason, row[0], base_category(row[0])}
    return bool(names & set(plan.when_ended_reason))


def texts_of(channel: str, extensions: Mapping[str, Any] | None) -> bool:
    """True when the campaign sends texts (its channel, or a follow-up plan)."""
    return channel == SMS_CHANNEL or (extensions or {}).get(FOLLOW_UP_PLAN_EXTENSION) is not None


def channel_errors(*, channel: str, extensions: Mapping[str, Any]) -> list[str]:
    """The rules between ``channel`` and the plans (on the campaign as it would be set up)."""
    errors: list[str] = []
    has_sms_plan = extensions.get(SMS_PLAN_EXTENSION) is not None
    if channel == SMS_CHANNEL and not has_sms_plan:
        errors.append("smsPlan.input is required when channel is sms")
    if channel != SMS_CHANNEL and has_sms_plan:
        errors.append("smsPlan is only for a campaign whose channel is sms")
    if channel == SMS_CHANNEL and extensions.get(FOLLOW_UP_PLAN_EXTENSION) is not None:
        errors.append("followUpPlan is only for a campaign whose channel is call")
    return errors


def _templates(extensions: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every template the campaign renders, with the path it is reported under."""
    found: list[tuple[str, str]] = []
    sms = extensions.get(SMS_PLAN_EXTENSION)
    if isinstance(sms, Mapping) and isinstance(sms.get("input"), str):
        found.append(("smsPlan.input", sms["input"]))
    follow_up = extensions.get(FOLLOW_UP_PLAN_EXTENSION)
    follow_sms = follow_up.get("sms") if isinstance(follow_up, Mapping) else None
    if isinstance(follow_sms, Mapping) and isinstance(follow_sms.get("input"), str):
        found.append(("followUpPlan.sms.input", follow_sms["input"]))
    return found


def template_errors(
    *,
    extensions: Mapping[str, Any],
    campaign_overrides: Mapping[str, Any] | None,
    customers: Sequence[dict[str, Any]],
) -> list[str]:
    """Each template that does not parse, or does not render for a contact (named by its
    index and number; the first :data:`MAX_CONTACT_ERRORS` of them)."""
    errors: list[str] = []
    for path, source in _templates(extensions):
        try:
            parse_template(source)
        except TemplateError as error:
            errors.append(f"{path} is not a valid template: {error}")
            continue
        errors += _contact_errors(path, source, campaign_overrides, customers)
    return errors


def _contact_errors(
    path: str,
    source: str,
    campaign_overrides: Mapping[str, Any] | None,
    customers: Sequence[dict[str, Any]],
) -> list[str]:
    failed: list[str] = []
    for index, customer in enumerate(customers):
        try:
            render_text(source, customer=customer, campaign_overrides=campaign_overrides)
        except TemplateError as error:
            who = customer.get("number") or customer.get("sipUri") or ""
            failed.append(f"{path} does not render for contact {index} ({who}): {error}")
    if len(failed) > MAX_CONTACT_ERRORS:
        more = len(failed) - MAX_CONTACT_ERRORS
        return [*failed[:MAX_CONTACT_ERRORS], f"{path} does not render for {more} more contacts"]
    return failed


def customer_template_errors(
    *,
    extensions: Mapping[str, Any],
    campaign_overrides: Mapping[str, Any] | None,
    customer: dict[str, Any],
) -> list[str]:
    """Each of the campaign's templates that does not render for one more customer (the
    templates themselves were checked when the campaign was made)."""
    failed: list[str] = []
    for path, source in _templates(extensions):
        try:
            render_text(source, customer=customer, campaign_overrides=campaign_overrides)
        except TemplateError as error:
            failed.append(f"{path} does not render: {error}")
    return failed
