"""Direct-call request bodies, queries and responses in Vapi's wire format (``CreateCallDTO``...).

Customers and schedule plans are the campaign's models, so a number that a campaign refuses
is refused here in the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ModelWrapValidatorHandler, model_validator

from orchestrator.calls.wire import WireCallStatus
from orchestrator.campaigns.schemas import (
    ID_MAX_LENGTH,
    CustomerIn,
    CustomerOut,
    SchedulePlanIn,
    SchedulePlanOut,
)
from orchestrator.listing import TimeRangeQuery
from orchestrator.wire import (
    CAMEL_MODEL_CONFIG,
    RESPONSE_MODEL_CONFIG,
    JsonObject,
    Omitted,
    Text,
    Timestamp,
    validate_with_rules,
)

# Vapi's limit on a call's name.
NAME_MAX_LENGTH = 40
TARGET_FIELDS = ("assistantId", "assistant", "squadId", "squad", "workflowId", "workflow")
REQUEST_FIELDS = (
    *TARGET_FIELDS,
    "assistantOverrides",
    "squadOverrides",
    "workflowOverrides",
)
# Fields of Vapi's CreateCallDTO we do not support, with what to use instead.
UNSUPPORTED_FIELDS = {
    "transport": "transport is not supported: calls go out over the phone number's provider",
    "phoneNumber": "phoneNumber is not supported: use phoneNumberId",
    "customerId": "customerId is not supported: use customer",
    "assistantVersion": "assistantVersion is not supported: the assistant's latest version is used",
}
TARGET_RULE = (
    "exactly one of assistantId, assistant, squadId, squad, workflowId or workflow must be provided"
)
PHONE_NUMBER_RULE = "phoneNumberId should not be empty: an outbound call needs a caller number"
CUSTOMER_RULE = "exactly one of customer or customers must be provided"


def create_rule_errors(fields: Mapping[str, Any]) -> list[str]:
    """Rules between the top-level fields of ``POST /call``, judged on presence alone.

    Like the campaign's, they need no parsed values, so they are reported next to the field
    errors of a body that failed to parse.
    """
    errors: list[str] = []
    if sum(fields.get(name) is not None for name in TARGET_FIELDS) != 1:
        errors.append(TARGET_RULE)
    if fields.get("phoneNumberId") is None:
        errors.append(PHONE_NUMBER_RULE)
    has_customer = fields.get("customer") is not None
    has_customers = fields.get("customers") is not None
    if has_customer == has_customers:
        errors.append(CUSTOMER_RULE)
    elif fields.get("customers") == []:
        errors.append("customers should not be empty")
    errors += [
        message for name, message in UNSUPPORTED_FIELDS.items() if fields.get(name) is not None
    ]
    return errors


class CreateCallIn(BaseModel):
    """Vapi's ``CreateCallDTO``: one outbound call, or one per customer of ``customers``."""

    model_config = ConfigDict(
        **CAMEL_MODEL_CONFIG,
        json_schema_extra={
            "examples": [
                {
                    "assistantId": "assistant-1",
                    "phoneNumberId": "phone-1",
                    "customer": {"number": "+14155550123"},
                }
            ]
        },
    )

    name: Text | None = Field(None, max_length=NAME_MAX_LENGTH)
    assistant_id: Text | None = Field(None, alias="assistantId", max_length=ID_MAX_LENGTH)
    assistant: JsonObject | None = None
    assistant_overrides: JsonObject | None = Field(None, alias="assistantOverrides")
    squad_id: Text | None = Field(None, alias="squadId", max_length=ID_MAX_LENGTH)
    squad: JsonObject | None = None
    squad_overrides: JsonObject | None = Field(None, alias="squadOverrides")
    workflow_id: Text | None = Field(None, alias="workflowId", max_length=ID_MAX_LENGTH)
    workflow: JsonObject | None = None
    workflow_overrides: JsonObject | None = Field(None, alias="workflowOverrides")
    phone_number_id: Text | None = Field(
        None, alias="phoneNumberId", min_length=1, max_length=ID_MAX_LENGTH
    )
    customer: CustomerIn | None = None
    customers: list[CustomerIn] | None = None
    schedule_plan: SchedulePlanIn | None = Field(None, alias="schedulePlan")
    # Vapi's fields we do not support: accepted by the parser only to be named in the 400.
    transport: Any = None
    phone_number: Any = Field(None, alias="phoneNumber")
    customer_id: Any = Field(None, alias="customerId")
    assistant_version: Any = Field(None, alias="assistantVersion")

    @model_validator(mode="wrap")
    @classmethod
    def _every_error_at_once(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        return validate_with_rules(data, handler, create_rule_errors)

    def given_fields(self) -> dict[str, Any]:
        """Every top-level value under its wire name, for :func:`create_rule_errors`."""
        return {
            info.alias or name: getattr(self, name)
            for name, info in type(self).model_fields.items()
        }

    def provider_request(self) -> dict[str, Any]:
        """What the provider is sent besides the customer and the caller number (given keys)."""
        given = self.given_fields()
        return {name: given[name] for name in REQUEST_FIELDS if given[name] is not None}


class UpdateCallIn(BaseModel):
    """Vapi's ``UpdateCallDTO``: only the name can change."""

    model_config = CAMEL_MODEL_CONFIG

    name: Text | None = Field(None, max_length=NAME_MAX_LENGTH)


class DeleteCallIn(BaseModel):
    """Vapi's ``DeleteCallDTO``; its bulk ``ids`` are not supported."""

    model_config = CAMEL_MODEL_CONFIG

    ids: list[str] | None = None


class CallListQuery(TimeRangeQuery):
    """``GET /call``: Vapi's filters and ``limit``, newest first."""

    id: Text | None = None
    assistant_id: Text | None = Field(None, alias="assistantId")
    phone_number_id: Text | None = Field(None, alias="phoneNumberId")


# --- Responses: what calls/wire.py builds, field for field ----------------------------------


class CallExtensionOut(BaseModel):
    """Ours beyond Vapi's fields: the provider's call id, the attempt, the campaign's contact."""

    model_config = RESPONSE_MODEL_CONFIG

    provider_call_id: str | None
    attempt: int
    contact_id: str | None


class CallOut(BaseModel):
    """Vapi's ``Call``, as far as an outbound phone call placed here fills it in."""

    model_config = RESPONSE_MODEL_CONFIG

    id: str
    org_id: str
    type: Literal["outboundPhoneCall"]
    customer: CustomerOut | Omitted = None
    status: WireCallStatus
    ended_reason: str | Omitted = None
    started_at: Timestamp | Omitted = None
    ended_at: Timestamp | Omitted = None
    ended_message: str | Omitted = None
    created_at: Timestamp
    updated_at: Timestamp
    cost: float | Omitted = None
    analysis: dict[str, Any] | Omitted = None
    campaign_id: str | Omitted = None
    assistant_id: str | Omitted = None
    assistant: dict[str, Any] | Omitted = None
    assistant_overrides: dict[str, Any] | Omitted = None
    squad_id: str | Omitted = None
    squad: dict[str, Any] | Omitted = None
    squad_overrides: dict[str, Any] | Omitted = None
    workflow_id: str | Omitted = None
    workflow: dict[str, Any] | Omitted = None
    workflow_overrides: dict[str, Any] | Omitted = None
    phone_number_id: str | Omitted = None
    name: str | Omitted = None
    schedule_plan: SchedulePlanOut | Omitted = None
    orchestrator: CallExtensionOut


class CallBatchErrorOut(BaseModel):
    model_config = RESPONSE_MODEL_CONFIG

    customer: CustomerOut
    error: str


class CallBatchOut(BaseModel):
    """Vapi's ``CallBatchResponse``: the answer to ``POST /call`` with ``customers``.

    All or nothing: a bad customer fails the whole request, so ``errors`` is always empty.
    """

    model_config = RESPONSE_MODEL_CONFIG

    results: list[CallOut]
    errors: list[CallBatchErrorOut]
