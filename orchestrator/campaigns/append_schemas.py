"""``POST /campaign/{id}/customers`` (extension): its body, query and answer."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from orchestrator.campaigns.schemas import CustomerIn
from orchestrator.wire import CAMEL_MODEL_CONFIG, RESPONSE_MODEL_CONFIG

CSV_MEDIA_TYPE = "text/csv"
JSON_MEDIA_TYPE = "application/json"


class OnError(StrEnum):
    # Any bad row refuses the whole request, and nothing is written.
    FAIL = "fail"
    # The good rows are written; the bad ones are listed in the answer.
    SKIP = "skip"


class AppendCustomersIn(BaseModel):
    """The JSON body: Vapi's customer objects, as ``POST /campaign`` takes them."""

    model_config = CAMEL_MODEL_CONFIG

    customers: list[CustomerIn] = Field(min_length=1)


class AppendEnvelope(BaseModel):
    """The JSON body as read: each customer is then checked on its own, by its index."""

    model_config = CAMEL_MODEL_CONFIG

    customers: list[Any]


class RowErrorOut(BaseModel):
    model_config = RESPONSE_MODEL_CONFIG

    row: int = Field(
        description="In a CSV body, the row's line in the file (the header is line 1); in a "
        "JSON body, the customer's index in customers."
    )
    column: str | None = Field(description="The column (or customer field) at fault, if one.")
    reason: str


class AppendCustomersOut(BaseModel):
    """What an append did: customers added, duplicates left out, rows rejected (with
    onError=skip; otherwise any rejected row refuses the request)."""

    model_config = RESPONSE_MODEL_CONFIG

    campaign_id: str
    added: int
    duplicates: int
    rejected: int
    errors: list[RowErrorOut] = Field(description="The first 1,000 problems of rejected rows.")
    error_count: int = Field(description="How many problems in all.")


def _json_body_schema() -> dict[str, Any]:
    """``AppendCustomersIn``'s schema, its customers those ``POST /campaign`` documents."""
    schema = AppendCustomersIn.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


# The request body as the document tells it: JSON or CSV (FastAPI cannot infer either, as the
# endpoint reads the body itself to stream it).
APPEND_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            JSON_MEDIA_TYPE: {"schema": _json_body_schema()},
            CSV_MEDIA_TYPE: {
                "schema": {
                    "type": "string",
                    "description": "A header line naming the columns (number required; name, "
                    "email, externalId, sipUri, extension, timezone; any other column is a "
                    "variable in assistantOverrides.variableValues), then one customer a line.",
                },
                "example": "number,name,appointment date\n+14155550123,Ada,Friday 3pm\n",
            },
        },
    }
}
