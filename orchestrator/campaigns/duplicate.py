"""What a new campaign is set up with: the request's fields, over those of a campaign it duplicates.

Vapi's rule for ``duplicateFromCampaignId``: the fields given override the source, and the
contacts are copied when ``customers`` is left out. Some fields only make sense together, so
a group the request gives replaces the source's whole group:

* what the calls run (``assistantId``, ``workflowId``, ``squadId``): naming any of them drops
  the source's (a squad given for an assistant campaign is not "both");
* whom the campaign calls: ``customers`` given replace the source's contacts, called from the
  request's ``phoneNumberId`` or else the source's; a ``dialPlan`` given replaces it all; a
  ``phoneNumberId`` alone moves the source's contacts, in their order, onto that number;
* every other field (``schedulePlan``, ``maxConcurrency``, the overrides, ``server``,
  ``serverMessages``, ``predialPlan``, ``channel``, our extensions) is the request's when it
  names it, ``null`` included (which clears it), else the source's.

``name`` stays required, as Vapi's schema has it. The rules a create obeys (one target, one
caller, customers) are judged on the result. A copied ``schedulePlan`` whose ``latestAt`` has
passed would skip every contact at once, so it is refused: the request must give one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from orchestrator.calls.retry_plan import RETRY_PLAN_EXTENSION
from orchestrator.campaigns.schemas import CreateCampaignIn, UpdateCampaignIn
from orchestrator.campaigns.text_plans import FOLLOW_UP_PLAN_EXTENSION, SMS_PLAN_EXTENSION
from orchestrator.contacts.service import NewContact
from orchestrator.models import Campaign
from orchestrator.scheduling.policy import CALLING_HOURS_FIELD
from orchestrator.suppression.opt_outs import OPT_OUT_PLAN_EXTENSION
from orchestrator.wire import iso

# Stands for the source's contacts, where the rules look for ``customers`` or a ``dialPlan``.
COPIED = "copied"
NOT_FOUND = "duplicateFromCampaignId must be the id of a campaign of this org"

# Our request fields beyond Vapi's, and their keys in ``Campaign.extensions``.
EXTENSION_FIELDS = {
    "calling_hours": CALLING_HOURS_FIELD,
    "retry_plan": RETRY_PLAN_EXTENSION,
    "opt_out_plan": OPT_OUT_PLAN_EXTENSION,
    "sms_plan": SMS_PLAN_EXTENSION,
    "follow_up_plan": FOLLOW_UP_PLAN_EXTENSION,
}
TARGET_COLUMNS = ("assistant_id", "workflow_id", "squad_id")
# Fields named alike on the request and the campaign row, each copied on its own.
SETTING_COLUMNS = (
    "max_concurrency",
    "assistant_overrides",
    "squad_overrides",
    "server",
    "server_messages",
    "predial_plan",
    "channel",
)


@dataclass(frozen=True)
class CampaignSetup:
    """A new campaign's columns, the fields the create rules judge, and its contacts' origin."""

    columns: dict[str, Any]
    fields: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    # Contacts copied from this campaign (the request gave none), onto ``copied_caller`` if set.
    source: Campaign | None = None
    copied_caller: str | None = None

    @property
    def copies_contacts(self) -> bool:
        return self.source is not None and COPIED in (
            self.fields.get("customers"),
            self.fields.get("dialPlan"),
        )


def audience_columns(setup: CampaignSetup, contacts: list[NewContact]) -> dict[str, Any]:
    """What the tick iterates over and how many contacts there are, from the contacts made."""
    source = setup.source
    if source is not None and setup.copies_contacts:
        callers = [setup.copied_caller] if setup.copied_caller else source.caller_number_ids
        return {
            "caller_number_ids": list(callers),
            "contact_zone_keys": list(source.contact_zone_keys),
            "contacts_total": source.contacts_total,
        }
    return {
        "caller_number_ids": sorted({c.phone_number_id for c in contacts if c.phone_number_id}),
        "contact_zone_keys": sorted({c.zone_key for c in contacts}),
        "contacts_total": len(contacts),
    }


def extensions_of(body: CreateCampaignIn | UpdateCampaignIn) -> dict[str, Any]:
    """Our optional fields beyond Vapi's, stored as given (camelCase) on the campaign."""
    extensions: dict[str, Any] = {}
    for name, key in EXTENSION_FIELDS.items():
        value = getattr(body, name)
        if value is not None:
            extensions[key] = value.model_dump(by_alias=True)
    return extensions


def campaign_setup(
    body: CreateCampaignIn, source: Campaign | None, *, now: datetime
) -> CampaignSetup:
    """The campaign ``body`` makes; ``source`` is the campaign it duplicates, if found."""
    own = CampaignSetup(columns=_columns_of(body), fields=body.given_fields())
    if body.duplicate_from_campaign_id is None:
        return own
    if source is None:
        return CampaignSetup(columns=own.columns, fields=own.fields, errors=[NOT_FOUND])
    return _over_source(body, source, now=now)


def _columns_of(body: CreateCampaignIn) -> dict[str, Any]:
    schedule = body.schedule_plan
    return {
        **{name: _stored(getattr(body, name)) for name in (*TARGET_COLUMNS, *SETTING_COLUMNS)},
        "phone_number_id": body.phone_number_id,
        "uses_dial_plan": body.dial_plan is not None,
        "earliest_at": schedule.earliest_at if schedule else None,
        "latest_at": schedule.latest_at if schedule else None,
        "extensions": extensions_of(body),
    }


def _stored(value: Any) -> Any:
    """A nested object (``server``, ``predialPlan``) is stored as given, under its wire names."""
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_unset=True)
    return value


def _over_source(body: CreateCampaignIn, source: Campaign, *, now: datetime) -> CampaignSetup:
    given = body.model_fields_set
    columns = _columns_of(body)
    errors: list[str] = []
    copied = [name for name in SETTING_COLUMNS if name not in given]
    if not given & set(TARGET_COLUMNS):
        copied += TARGET_COLUMNS
    if "schedule_plan" not in given:
        copied += ["earliest_at", "latest_at"]
        if source.latest_at is not None and source.latest_at <= now:
            errors.append(
                f"schedulePlan.latestAt of the duplicated campaign ({iso(source.latest_at)}) "
                "has passed: give a schedulePlan (null for none)"
            )
    columns.update({name: getattr(source, name) for name in copied})
    columns["extensions"] = _extensions_over(body, source)
    setup = _audience(body, source, columns)
    return CampaignSetup(
        columns=columns,
        fields={**_target_fields(columns), **_server_fields(columns), **setup.fields},
        errors=errors,
        source=source,
        copied_caller=setup.copied_caller,
    )


def _extensions_over(body: CreateCampaignIn, source: Campaign) -> dict[str, Any]:
    extensions = dict(source.extensions or {})
    for name in body.model_fields_set & set(EXTENSION_FIELDS):
        extensions.pop(EXTENSION_FIELDS[name], None)
    return {**extensions, **extensions_of(body)}


def _audience(body: CreateCampaignIn, source: Campaign, columns: dict[str, Any]) -> CampaignSetup:
    """Whom the campaign calls and from which numbers; updates ``columns`` to match."""
    if body.dial_plan is not None or body.customers is not None:
        phone = body.phone_number_id
        if phone is None and body.customers is not None and not source.uses_dial_plan:
            phone = source.phone_number_id
        columns["phone_number_id"] = phone
        fields = {"phoneNumberId": phone, "dialPlan": body.dial_plan, "customers": body.customers}
        return CampaignSetup(columns=columns, fields=fields)
    # The source's contacts: on the number given, or each on its own caller number.
    caller = body.phone_number_id
    keeps_plan = caller is None and source.uses_dial_plan
    columns["phone_number_id"] = caller or source.phone_number_id
    columns["uses_dial_plan"] = keeps_plan
    fields = {
        "phoneNumberId": columns["phone_number_id"],
        "dialPlan": COPIED if keeps_plan else None,
        "customers": None if keeps_plan else COPIED,
    }
    return CampaignSetup(columns=columns, fields=fields, copied_caller=caller)


def _server_fields(columns: dict[str, Any]) -> dict[str, Any]:
    return {"server": columns["server"], "predialPlan": columns["predial_plan"]}


def _target_fields(columns: dict[str, Any]) -> dict[str, Any]:
    return {
        "assistantId": columns["assistant_id"],
        "workflowId": columns["workflow_id"],
        "squadId": columns["squad_id"],
    }


def source_id_of(body: CreateCampaignIn) -> uuid.UUID | None:
    """The id of the campaign to duplicate; None when none is asked for or it is no UUID."""
    if body.duplicate_from_campaign_id is None:
        return None
    try:
        return uuid.UUID(body.duplicate_from_campaign_id)
    except ValueError:
        return None
