"""What Vapi's list endpoints share: ``createdAt``/``updatedAt`` bounds and a ``limit``."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement

OPERATORS = ("gt", "lt", "ge", "le")
MAX_LIMIT = 1000


class TimeRangeQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    limit: int = Field(100, ge=0, le=MAX_LIMIT)
    created_at_gt: datetime | None = Field(None, alias="createdAtGt")
    created_at_lt: datetime | None = Field(None, alias="createdAtLt")
    created_at_ge: datetime | None = Field(None, alias="createdAtGe")
    created_at_le: datetime | None = Field(None, alias="createdAtLe")
    updated_at_gt: datetime | None = Field(None, alias="updatedAtGt")
    updated_at_lt: datetime | None = Field(None, alias="updatedAtLt")
    updated_at_ge: datetime | None = Field(None, alias="updatedAtGe")
    updated_at_le: datetime | None = Field(None, alias="updatedAtLe")


def time_range_filters(model: Any, query: TimeRangeQuery) -> list[ColumnElement[bool]]:
    """One condition per bound given, on ``model.created_at`` / ``model.updated_at``."""
    filters: list[ColumnElement[bool]] = []
    for column in ("created_at", "updated_at"):
        for op in OPERATORS:
            value = getattr(query, f"{column}_{op}")
            if value is not None:
                filters.append(getattr(getattr(model, column), f"__{op}__")(value))
    return filters


def page_metadata(*, total: int, limit: int, page: int, sort_order: str = "ASC") -> dict[str, Any]:
    """Vapi's ``PaginationMeta``: where this page stands among ``total`` items."""
    pages = math.ceil(total / limit) if limit else 0
    return {
        "itemsPerPage": limit,
        "totalItems": total,
        "currentPage": page,
        "totalPages": pages,
        "hasNextPage": page < pages,
        "sortOrder": sort_order,
    }
