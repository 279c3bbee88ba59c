"""Session request bodies, queries and responses in Vapi's wire format (``CreateSessionDTO``,
``UpdateSessionDTO``, ``Session``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ModelWrapValidatorHandler, model_validator

from orchestrator.campaigns.schemas import (
    ID_MAX_LENGTH,
    MAX_PAGE,
    CustomerIn,
    CustomerOut,
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

NAME_MAX_LENGTH = 40
MIN_EXPIRATION_SECONDS = 60
MAX_EXPIRATION_SECONDS = 2_592_000
# Vapi's default: a day of silence ends a session.
DEFAULT_EXPIRATION_SECONDS = 86_400
SessionStatusIn = Literal["active", "completed"]
UNSUPPORTED_FIELDS = {
    "customerId": "customerId is not supported: use customer",
    "phoneNumber": "phoneNumber is not supported: use phoneNumberId",
}


def create_rule_errors(fields: Mapping[str, Any]) -> list[str]:
    return [message for name, message in UNSUPPORTED_FIELDS.items() if fields.get(name) is not None]


Expiration = Field(
    None, alias="expirationSeconds", ge=MIN_EXPIRATION_SECONDS, le=MAX_EXPIRATION_SECONDS
)


class UpdateSessionIn(BaseModel):
    """Vapi's ``UpdateSessionDTO``."""

    model_config = CAMEL_MODEL_CONFIG

    name: Text | None = Field(None, max_length=NAME_MAX_LENGTH)
    status: SessionStatusIn | None = None
    expiration_seconds: int | None = Expiration
    messages: list[JsonObject] | None = None

    def given_fields(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_unset=True, exclude_none=True)


class CreateSessionIn(UpdateSessionIn):
    """Vapi's ``CreateSessionDTO``; a session is opened at the provider at once."""

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

    assistant_id: Text | None = Field(None, alias="assistantId", max_length=ID_MAX_LENGTH)
    assistant: JsonObject | None = None
    assistant_overrides: JsonObject | None = Field(None, alias="assistantOverrides")
    squad_id: Text | None = Field(None, alias="squadId", max_length=ID_MAX_LENGTH)
    squad: JsonObject | None = None
    customer: CustomerIn | None = None
    phone_number_id: Text | None = Field(
        None, alias="phoneNumberId", min_length=1, max_length=ID_MAX_LENGTH
    )
    # Vapi's fields we do not support: accepted by the parser only to be named in the 400.
    customer_id: Any = Field(None, alias="customerId")
    phone_number: Any = Field(None, alias="phoneNumber")

    @model_validator(mode="wrap")
    @classmethod
    def _every_error_at_once(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        return validate_with_rules(data, handler, create_rule_errors)


class SessionListQuery(TimeRangeQuery):
    """``GET /session``: Vapi's filters, paged, newest first unless ``sortOrder`` says ASC."""

    id: Text | None = None
    id_any: Text | None = Field(None, alias="idAny")
    name: Text | None = None
    assistant_id: Text | None = Field(None, alias="assistantId")
    assistant_id_any: Text | None = Field(None, alias="assistantIdAny")
    squad_id: Text | None = Field(None, alias="squadId")
    customer_number_any: Text | None = Field(None, alias="customerNumberAny")
    phone_number_id: Text | None = Field(None, alias="phoneNumberId")
    phone_number_id_any: list[Text] | None = Field(None, alias="phoneNumberIdAny")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    sort_order: SortOrder = Field(SortOrder.DESC, alias="sortOrder")
    sort_by: SortBy = Field(SortBy.CREATED_AT, alias="sortBy")


# --- Responses: what sessions/wire.py builds, field for field -------------------------------


class SessionOut(BaseModel):
    """Vapi's ``Session`` under our ids."""

    model_config = RESPONSE_MODEL_CONFIG

    id: str
    org_id: str
    created_at: Timestamp
    updated_at: Timestamp
    cost: float | Omitted = None
    costs: list[dict[str, Any]] | Omitted = None
    name: str | Omitted = None
    status: SessionStatusIn
    expiration_seconds: int | Omitted = None
    assistant_id: str | Omitted = None
    assistant: dict[str, Any] | Omitted = None
    assistant_overrides: dict[str, Any] | Omitted = None
    squad_id: str | Omitted = None
    squad: dict[str, Any] | Omitted = None
    messages: list[dict[str, Any]]
    customer: CustomerOut | Omitted = None
    customer_id: str | Omitted = None
    phone_number_id: str | Omitted = None
    artifact: dict[str, Any] | Omitted = None


class SessionPageOut(BaseModel):
    """Vapi's ``SessionPaginatedResponse``."""

    model_config = RESPONSE_MODEL_CONFIG

    results: list[SessionOut]
    metadata: PaginationMetaOut
