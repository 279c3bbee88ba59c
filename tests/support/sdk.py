"""Vapi's official Python SDK as our tests use it: its answers checked strictly.

The SDK builds its models without checking them (a missing or mistyped field passes), types each
enum as "one of Vapi's values, or anything", and keeps every field its models do not declare in
``model_extra``. So tests validate each raw answer strictly against the model the SDK chose
(after the SDK's own camelCase-to-field mapping), and check that every enum holds one of Vapi's
values and nothing but our extensions lands in ``model_extra``, at any depth.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel
from vapi.core.serialization import convert_and_respect_annotation_metadata
from vapi.phone_numbers.types import GetPhoneNumbersResponse, ListPhoneNumbersResponseItem
from vapi.types import (
    Campaign,
    CampaignContactCounters,
    CampaignContactWithOutcome,
    CampaignPredialPlan,
    CampaignSummary,
    Chat,
    CreateCustomerDto,
    VapiPhoneNumber,
)

SdkModel = TypeVar("SdkModel", bound=BaseModel)

_CAMPAIGN = frozenset(
    {
        "callingHours",
        "retryPlan",
        "optOutPlan",
        "pausedAt",
        "pacing",
        "channel",
        "smsPlan",
        "followUpPlan",
        "smsCounters",
    }
)

# Our fields beyond Vapi's, by the SDK model they arrive in.
EXTENSIONS: dict[type[BaseModel], frozenset[str]] = {
    Campaign: _CAMPAIGN | {"contactCounters"},
    # Vapi's summary has no workflowId; ours keeps the one a v1 campaign runs.
    CampaignSummary: _CAMPAIGN | {"workflowId"},
    CampaignContactCounters: frozenset({"total"}),
    CampaignContactWithOutcome: frozenset({"sipUri", "skipReason", "lastText"}),
    CampaignPredialPlan: frozenset({"onError", "onErrorMaxRetries"}),
    # Where an outbound text stands (absent on a plain chat).
    Chat: frozenset({"delivery"}),
    CreateCustomerDto: frozenset({"timezone"}),
    VapiPhoneNumber: frozenset({"pacing"}),
}
# Our values beyond Vapi's enums, by model and field.
EXTENSION_VALUES: dict[tuple[type[BaseModel], str], frozenset[str]] = {
    (Campaign, "status"): frozenset({"paused"}),
    (CampaignSummary, "status"): frozenset({"paused"}),
}
for _union in (ListPhoneNumbersResponseItem, GetPhoneNumbersResponse):
    for _kind in get_args(get_args(_union)[0]):
        EXTENSIONS[_kind] = frozenset({"pacing"})


def strictly(model: type[SdkModel], raw: Any) -> SdkModel:
    fields = convert_and_respect_annotation_metadata(
        object_=raw, annotation=model, direction="read"
    )
    return model.model_validate(fields)


def _models(parsed: BaseModel, path: str) -> Iterator[tuple[str, BaseModel]]:
    yield path, parsed
    for name, field in type(parsed).model_fields.items():
        value = getattr(parsed, name)
        at = f"{path}.{field.alias or name}".lstrip(".")
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if isinstance(item, BaseModel):
                yield from _models(item, f"{at}.{index}" if isinstance(value, list) else at)


def undeclared(parsed: BaseModel) -> dict[str, set[str]]:
    """Fields the SDK's models do not declare and that are not ours, by where they are."""
    found: dict[str, set[str]] = {}
    for path, model in _models(parsed, ""):
        unknown = set(model.model_extra or {}) - EXTENSIONS.get(type(model), frozenset())
        if unknown:
            found[path or "."] = unknown
    return found


def _enum_values(annotation: Any) -> frozenset[Any] | None:
    """Vapi's values of an enum the SDK types as ``Literal[...] | Any``; None for other types."""
    args = get_args(annotation)
    literals = [arg for arg in args if get_origin(arg) is Literal]
    if not literals or Any not in args:
        return None
    return frozenset(value for literal in literals for value in get_args(literal))


def _enum_field(annotation: Any) -> tuple[bool, frozenset[Any]] | None:
    """Whether a field holds a list of enum values or one, and Vapi's values; None if no enum."""
    lists = [a for a in (annotation, *get_args(annotation)) if get_origin(a) is list]
    values = _enum_values(get_args(lists[0])[0] if lists else annotation)
    return None if values is None else (bool(lists), values)


def off_enum(parsed: BaseModel) -> dict[str, list[Any]]:
    """Values outside Vapi's enums (and not ours), by where they are."""
    found: dict[str, list[Any]] = {}
    for path, model in _models(parsed, ""):
        for name, field in type(model).model_fields.items():
            enum = _enum_field(field.annotation)
            if enum is None:
                continue
            many, allowed = enum
            allowed |= EXTENSION_VALUES.get((type(model), name), frozenset())
            value = getattr(model, name)
            wrong = [v for v in (value or [] if many else [value]) if v not in {*allowed, None}]
            if wrong:
                found[f"{path}.{field.alias or name}".lstrip(".")] = wrong
    return found


def extensions(parsed: BaseModel) -> set[str]:
    """The fields of ours the SDK kept aside on ``parsed`` itself."""
    return set(parsed.model_extra or {})


def checked(parsed: SdkModel, raw: Any) -> SdkModel:
    """``parsed``, the SDK's model of the answer ``raw``, once ``raw`` is found strictly valid
    as that model and equal to it, each enum one of Vapi's values, nothing undeclared but our
    extensions."""
    assert strictly(type(parsed), raw) == parsed
    assert off_enum(parsed) == {}
    assert undeclared(parsed) == {}
    return parsed
