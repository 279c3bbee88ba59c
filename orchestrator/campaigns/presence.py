"""Rules between the top-level fields of a campaign create, judged on presence alone.

They need no parsed values, so they can be reported next to the field errors of a body that
failed to parse, giving the caller every problem in one answer. A request that duplicates a
campaign is judged on what it gives alone: what it leaves out comes from that campaign, and
the result is judged again once it is known (see ``duplicate.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TARGET_FIELDS = ("assistantId", "workflowId", "squadId")
V2_TARGET_FIELDS = ("assistantId", "squadId")
DUPLICATE_FIELD = "duplicateFromCampaignId"
# Extension: a campaign created paused may wait for its customers (``POST .../customers``).
CREATED_STATUS_FIELD = "status"
# What a v2 campaign cannot have, and what it takes instead.
V1_ONLY_FIELDS = {
    "workflowId": "a v2 campaign runs an assistantId or a squadId",
    "dialPlan": "a v2 campaign calls its customers from one phoneNumberId",
    CREATED_STATUS_FIELD: "a v2 campaign is created scheduled",
}


def presence_errors(fields: Mapping[str, Any]) -> list[str]:
    """v1's rules: one assistant, workflow or squad; one caller number or a dial plan; customers."""
    if fields.get(DUPLICATE_FIELD) is not None:
        return conflict_errors(fields, targets=TARGET_FIELDS)
    errors: list[str] = []
    if sum(fields.get(name) is not None for name in TARGET_FIELDS) != 1:
        errors.append("exactly one of assistantId, workflowId or squadId must be provided")
    has_phone = fields.get("phoneNumberId") is not None
    has_plan = fields.get("dialPlan") is not None
    if has_phone == has_plan:
        errors.append("exactly one of phoneNumberId or dialPlan must be provided")
    if has_plan and fields.get("customers"):
        errors.append("customers must not be given with dialPlan")
    if has_plan and fields.get("dialPlan") == []:
        errors.append("dialPlan should not be empty")
    waits_for_customers = fields.get(CREATED_STATUS_FIELD) == "paused"
    if not has_plan and not fields.get("customers") and not waits_for_customers:
        errors.append("customers should not be empty")
    return errors + server_errors(fields)


def server_errors(fields: Mapping[str, Any]) -> list[str]:
    """Pre-dial checks are sent to the campaign's server: an enabled plan needs its URL."""
    plan, server = fields.get("predialPlan"), fields.get("server")
    enabled = plan is not None and _given(plan, "enabled", default=True) is not False
    if enabled and _given(server, "url", default=None) is None:
        return ["predialPlan requires server.url"]
    return []


def _given(value: Any, name: str, *, default: Any) -> Any:
    """A field of a nested object, parsed (a model) or not (a mapping)."""
    if isinstance(value, Mapping):
        return value.get(name, default)
    return getattr(value, name, default)


def v2_presence_errors(fields: Mapping[str, Any]) -> list[str]:
    """v2's rules: one assistant or squad, one caller number, customers; nothing v1-only."""
    errors = v1_only_errors(fields)
    if fields.get(DUPLICATE_FIELD) is not None:
        return errors + conflict_errors(fields, targets=V2_TARGET_FIELDS)
    if sum(fields.get(name) is not None for name in V2_TARGET_FIELDS) != 1:
        errors.append("exactly one of assistantId or squadId must be provided")
    if fields.get("dialPlan") is None:
        # A dial plan given is refused above, with what to give instead.
        if fields.get("phoneNumberId") is None:
            errors.append("phoneNumberId should not be empty")
        if not fields.get("customers"):
            errors.append("customers should not be empty")
    return errors + server_errors(fields)


def v1_only_errors(fields: Mapping[str, Any]) -> list[str]:
    return [
        f"{name} is only supported by v1 (POST /campaign): {instead}"
        for name, instead in V1_ONLY_FIELDS.items()
        if fields.get(name) is not None
    ]


def conflict_errors(fields: Mapping[str, Any], *, targets: tuple[str, ...]) -> list[str]:
    """What is wrong with the fields given whatever a duplicated campaign could add to them."""
    errors: list[str] = []
    if sum(fields.get(name) is not None for name in targets) > 1:
        errors.append(f"only one of {_either(targets)} may be provided")
    has_plan = fields.get("dialPlan") is not None
    if has_plan and fields.get("phoneNumberId") is not None:
        errors.append("exactly one of phoneNumberId or dialPlan must be provided")
    if has_plan and fields.get("customers"):
        errors.append("customers must not be given with dialPlan")
    for name in ("dialPlan", "customers"):
        if fields.get(name) == []:
            errors.append(f"{name} should not be empty")
    return errors


def _either(names: tuple[str, ...]) -> str:
    return ", ".join(names[:-1]) + " or " + names[-1]
