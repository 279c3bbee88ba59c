"""Query pieces shared by the repositories."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any

import orjson
from sqlalchemy import BindParameter, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.types import TypeEngine


def array_param(
    name: str, values: Sequence[Any], item_type: type[TypeEngine[Any]]
) -> BindParameter[Any]:
    """``values`` as one array parameter, for ``column == any_(...)``: a statement of the same
    text whatever the count (``IN`` renders one parameter per value, and is compiled per count)."""
    return bindparam(name, list(values), type_=ARRAY(item_type))


class BulkUpdate:
    """Writes the current values of some columns of many loaded rows in one ``UPDATE``.

    The session is then told the values are written (``set_committed_value``): at its flush
    it would otherwise write each row again, one statement per row. Columns not listed keep
    their own pending changes, which the flush writes as usual. ``updated_at`` is set to the
    given time, as the session's flush would.
    """

    def __init__(self, table: str, columns: Sequence[tuple[str, str]]) -> None:
        self._columns = [name for name, _ in columns]
        self._jsonb = {name for name, sql_type in columns if sql_type == "jsonb"}
        arrays = ", ".join(
            f"CAST(:c{i} AS {'text' if t == 'jsonb' else t}[])" for i, (_, t) in enumerate(columns)
        )
        sets = ", ".join(
            f"{name} = CAST(v.{name} AS jsonb)" if name in self._jsonb else f"{name} = v.{name}"
            for name in self._columns
        )
        self._statement = text(
            f"UPDATE {table} AS t SET {sets}, updated_at = :now "
            f"FROM unnest(CAST(:ids AS uuid[]), {arrays}) AS v(id, {', '.join(self._columns)}) "
            "WHERE t.id = v.id"
        )

    def write(self, session: Session, rows: Sequence[Any], *, now: datetime) -> None:
        if not rows:
            return
        params: dict[str, Any] = {"ids": [row.id for row in rows], "now": now}
        for i, name in enumerate(self._columns):
            params[f"c{i}"] = [self._value(name, getattr(row, name)) for row in rows]
        with session.no_autoflush:  # the rows' changes are written here, not by the session
            session.execute(self._statement, params)
        for row in rows:
            for name in self._columns:
                set_committed_value(row, name, getattr(row, name))
            set_committed_value(row, "updated_at", now)

    def _value(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        if name in self._jsonb:
            return orjson.dumps(value).decode()
        return value.value if isinstance(value, Enum) else value
