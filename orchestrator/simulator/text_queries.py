"""The filters and paging of ``GET /chat`` and ``GET /session``, and Vapi's paginated answer.

``...Any`` filters take repeated parameters or comma-separated values. Results are sorted by
``createdAt`` (creation order breaks ties), newest first unless ``sortOrder=ASC``, then cut
into pages of ``limit`` (``page`` counts from 1).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator.simulator.sessions import ChatRecord, SessionRecord

MAX_LIST_LIMIT = 1000
BOUNDS = ("gt", "lt", "ge", "le")


class _Paged(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    page: int = Field(1, ge=1, le=1_000_000)
    limit: int = Field(100, ge=0, le=MAX_LIST_LIMIT)
    sort_order: Literal["ASC", "DESC"] = Field("DESC", alias="sortOrder")
    created_at_gt: datetime | None = Field(None, alias="createdAtGt")
    created_at_lt: datetime | None = Field(None, alias="createdAtLt")
    created_at_ge: datetime | None = Field(None, alias="createdAtGe")
    created_at_le: datetime | None = Field(None, alias="createdAtLe")
    updated_at_gt: datetime | None = Field(None, alias="updatedAtGt")
    updated_at_lt: datetime | None = Field(None, alias="updatedAtLt")
    updated_at_ge: datetime | None = Field(None, alias="updatedAtGe")
    updated_at_le: datetime | None = Field(None, alias="updatedAtLe")

    @field_validator("*", mode="after")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        if isinstance(value, list):
            return [part.strip() for item in value for part in str(item).split(",") if part]
        return value

    def _in_range(self, created: datetime, updated: datetime) -> bool:
        for column, stamp in (("created_at", created), ("updated_at", updated)):
            for op in BOUNDS:
                bound = getattr(self, f"{column}_{op}")
                if bound is not None and not getattr(stamp, f"__{op}__")(bound):
                    return False
        return True

    def page_of(self, found: list[Any]) -> dict[str, Any]:
        found.sort(key=lambda r: (r.created_at, r.seq), reverse=self.sort_order == "DESC")
        start = (self.page - 1) * self.limit
        return {
            "results": [record.to_json() for record in found[start : start + self.limit]],
            "metadata": {
                "itemsPerPage": self.limit,
                "totalItems": len(found),
                "currentPage": self.page,
                "sortOrder": self.sort_order,
            },
        }


def _one_of(value: str | None, options: list[str] | None, actual: Any) -> bool:
    return (value is None or actual == value) and (options is None or actual in options)


class ChatQuery(_Paged):
    id: str | None = None
    id_any: list[str] | None = Field(None, alias="idAny")
    assistant_id: str | None = Field(None, alias="assistantId")
    assistant_id_any: list[str] | None = Field(None, alias="assistantIdAny")
    squad_id: str | None = Field(None, alias="squadId")
    session_id: str | None = Field(None, alias="sessionId")
    previous_chat_id: str | None = Field(None, alias="previousChatId")

    def matches(self, chat: ChatRecord) -> bool:
        request = chat.request
        return (
            _one_of(self.id, self.id_any, chat.id)
            and _one_of(self.assistant_id, self.assistant_id_any, request.get("assistantId"))
            and _one_of(self.squad_id, None, request.get("squadId"))
            and _one_of(self.session_id, None, chat.session_id)
            and _one_of(self.previous_chat_id, None, request.get("previousChatId"))
            and self._in_range(chat.created_at, chat.created_at)
        )


class SessionQuery(_Paged):
    id: str | None = None
    id_any: list[str] | None = Field(None, alias="idAny")
    name: str | None = None
    assistant_id: str | None = Field(None, alias="assistantId")
    assistant_id_any: list[str] | None = Field(None, alias="assistantIdAny")
    squad_id: str | None = Field(None, alias="squadId")
    number: str | None = None
    customer_number_any: list[str] | None = Field(None, alias="customerNumberAny")
    phone_number_id: str | None = Field(None, alias="phoneNumberId")
    phone_number_id_any: list[str] | None = Field(None, alias="phoneNumberIdAny")

    def matches(self, session: SessionRecord) -> bool:
        request = session.request
        return (
            _one_of(self.id, self.id_any, session.id)
            and _one_of(self.name, None, session.name)
            and _one_of(self.assistant_id, self.assistant_id_any, request.get("assistantId"))
            and _one_of(self.squad_id, None, request.get("squadId"))
            and _one_of(self.number, self.customer_number_any, session.customer_number)
            and _one_of(self.phone_number_id, self.phone_number_id_any, session.phone_number_id)
            and self._in_range(session.created_at, session.updated_at)
        )
