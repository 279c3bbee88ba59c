"""Query pieces shared by the repositories."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import BindParameter, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.types import TypeEngine


def json_rows(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Rows as one JSON parameter for :func:`json_recordset`: orjson encodes uuids, times,
    enums and nested JSON in C, where psycopg dumps an array parameter element by element in
    Python (several microseconds each, the hot paths' largest cost in the driver)."""
    return orjson.dumps([dict(zip(columns, row, strict=True)) for row in rows]).decode()


def json_recordset(
    param: str, columns: Sequence[tuple[str, str]], *, alias: str = "v", ordinality: bool = False
) -> str:
    """``FROM`` item of the rows in JSON parameter ``param`` (:func:`json_rows`; its name, or
    a placeholder of the driver's own style), typed as ``columns`` (name, SQL type); with
    ``ordinality``, numbered ``n`` in the given order."""
    defs = ", ".join(f"{name} {sql_type}" for name, sql_type in columns)
    placeholder = param if param.startswith("%(") else f":{param}"
    rows = f"json_to_recordset(CAST({placeholder} AS json))"
    if not ordinality:
        return f"{rows} AS {alias}({defs})"
    names = ", ".join(name for name, _ in columns)
    return f"ROWS FROM ({rows} AS ({defs})) WITH ORDINALITY AS {alias}({names}, n)"


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
        sets = ", ".join(f"{name} = v.{name}" for name in self._columns)
        rows = json_recordset("rows", [("id", "uuid"), *columns])
        self._statement = text(
            f"UPDATE {table} AS t SET {sets}, updated_at = :now FROM {rows} WHERE t.id = v.id"
        )

    def write(self, session: Session, rows: Sequence[Any], *, now: datetime) -> None:
        if not rows:
            return
        names = ["id", *self._columns]
        values = json_rows(names, ([getattr(row, name) for name in names] for row in rows))
        with session.no_autoflush:  # the rows' changes are written here, not by the session
            session.execute(self._statement, {"rows": values, "now": now})
        for row in rows:
            for name in self._columns:
                set_committed_value(row, name, getattr(row, name))
            set_committed_value(row, "updated_at", now)
