"""Chat request bodies, queries and responses in Vapi's wire format (``CreateChatDTO``, ``Chat``).

The rules between fields are judged on presence alone, so a body that fails to parse is
answered with every broken rule next to its field errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ModelWrapValidatorHandler, model_validator

from orchestrator.campaigns.schemas import (
    ID_MAX_LENGTH,
    MAX_PAGE,
    CustomerIn,
    PaginationMetaOut,
    SortBy,
    SortOrder,
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

# Vapi's limit on a chat's name.
NAME_MAX_LENGTH = 40
STREAM_RULE = "stream is not supported: a chat is answered whole once the assistant has replied"
SESSION_AND_TRANSPORT_RULE = (
    "sessionId cannot be used together with transport.phoneNumberId or transport.customer: "
    "a session already has its phone number and customer"
)
SESSION_AND_PREVIOUS_RULE = "sessionId and previousChatId are mutually exclusive"
PHONE_NUMBER_RULE = (
    "transport.phoneNumberId should not be empty: a text in a new session needs a caller number"
)
CUSTOMER_RULE = "transport.customer.number should not be empty: a text in a new session needs one"
CUSTOMER_ID_RULE = "transport.customerId is not supported: use transport.customer"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def create_rule_errors(fields: Mapping[str, Any]) -> list[str]:
    """Rules between the fields of ``POST /chat``, on presence alone."""
    errors: list[str] = []
    if fields.get("stream") is True:
        errors.append(STREAM_RULE)
    has_session = fields.get("sessionId") is not None
    if has_session and fields.get("previousChatId") is not None:
        errors.append(SESSION_AND_PREVIOUS_RULE)
    transport = _mapping(fields.get("transport"))
    if not transport:
        return errors
    if transport.get("customerId") is not None:
        errors.append(CUSTOMER_ID_RULE)
    given = [transport.get(name) is not None for name in ("phoneNumberId", "customer")]
    if has_session and any(given):
        errors.append(SESSION_AND_TRANSPORT_RULE)
    elif not has_session:
        if transport.get("phoneNumberId") is None:
            errors.append(PHONE_NUMBER_RULE)
        if _mapping(transport.get("customer")).get("number") is None:
            errors.append(CUSTOMER_RULE)
    return errors


class SmsTransportIn(BaseModel):
    """Vapi's ``TwilioSMSChatTransport``: the chat goes out as a text."""

    model_config = CAMEL_MODEL_CONFIG

    type: Literal["twilio.sms"]
    conversation_type: Literal["chat"] | None = Field(None, alias="conversationType")
    phone_number_id: Text | None = Field(
        None, alias="phoneNumberId", min_length=1, max_length=ID_MAX_LENGTH
    )
    customer: CustomerIn | None = None
    customer_id: Text | None = Field(None, alias="customerId", max_length=ID_MAX_LENGTH)
    use_llm_generated_message_for_outbound: bool | None = Field(
        None, alias="useLLMGeneratedMessageForOutbound"
    )


ChatInput = Text | list[JsonObject]


class CreateChatIn(BaseModel):
    """Vapi's ``CreateChatDTO``: a plain chat, or a text with the SMS transport."""

    model_config = ConfigDict(
        **CAMEL_MODEL_CONFIG,
        json_schema_extra={
            "examples": [
                {
                    "assistantId": "assistant-1",
                    "input": "Your appointment is tomorrow at 10:00.",
                    "transport": {
                        "type": "twilio.sms",
                        "phoneNumberId": "phone-1",
                        "customer": {"number": "+14155550123"},
                    },
                }
            ]
        },
    )

    assistant_id: Text | None = Field(None, alias="assistantId", max_length=ID_MAX_LENGTH)
    assistant: JsonObject | None = None
    assistant_overrides: JsonObject | None = Field(None, alias="assistantOverrides")
    squad_id: Text | None = Field(None, alias="squadId", max_length=ID_MAX_LENGTH)
    squad: JsonObject | None = None
    name: Text | None = Field(None, max_length=NAME_MAX_LENGTH)
    session_id: Text | None = Field(None, alias="sessionId", max_length=ID_MAX_LENGTH)
    input: ChatInput
    stream: bool | None = None
    previous_chat_id: Text | None = Field(None, alias="previousChatId", max_length=ID_MAX_LENGTH)
    transport: SmsTransportIn | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _every_error_at_once(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        return validate_with_rules(data, handler, create_rule_errors)

    def given_fields(self) -> dict[str, Any]:
        """Every top-level value under its wire name (the transport as a dict)."""
        return self.model_dump(by_alias=True, exclude_none=True)


class ChatListQuery(TimeRangeQuery):
    """``GET /chat``: Vapi's filters, paged, newest first unless ``sortOrder`` says ASC."""

    id: Text | None = None
    id_any: Text | None = Field(None, alias="idAny")
    assistant_id: Text | None = Field(None, alias="assistantId")
    assistant_id_any: Text | None = Field(None, alias="assistantIdAny")
    squad_id: Text | None = Field(None, alias="squadId")
    session_id: Text | None = Field(None, alias="sessionId")
    previous_chat_id: Text | None = Field(None, alias="previousChatId")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    sort_order: SortOrder = Field(SortOrder.DESC, alias="sortOrder")
    sort_by: SortBy = Field(SortBy.CREATED_AT, alias="sortBy")


# --- Responses: what chats/wire.py builds, field for field ----------------------------------


class DeliveryOut(BaseModel):
    """Ours: where an outbound text stands (a plain chat has none)."""

    model_config = RESPONSE_MODEL_CONFIG

    status: Literal["queued", "sent", "failed"]
    reason: str | Omitted = None


class ChatOut(BaseModel):
    """Vapi's ``Chat`` under our ids, plus ``delivery`` for a text."""

    model_config = RESPONSE_MODEL_CONFIG

    id: str
    org_id: str
    assistant_id: str | Omitted = None
    assistant: dict[str, Any] | Omitted = None
    assistant_overrides: dict[str, Any] | Omitted = None
    squad_id: str | Omitted = None
    squad: dict[str, Any] | Omitted = None
    name: str | Omitted = None
    session_id: str | Omitted = None
    input: str | list[dict[str, Any]] | Omitted = None
    previous_chat_id: str | Omitted = None
    messages: list[dict[str, Any]]
    output: list[dict[str, Any]]
    created_at: Timestamp
    updated_at: Timestamp
    costs: list[dict[str, Any]] | Omitted = None
    cost: float | Omitted = None
    delivery: DeliveryOut | Omitted = None


class ChatPageOut(BaseModel):
    """Vapi's ``ChatPaginatedResponse``."""

    model_config = RESPONSE_MODEL_CONFIG

    results: list[ChatOut]
    metadata: PaginationMetaOut
