"""The queries of importing and exporting a suppression list as CSV, streamed with COPY.

A file goes into a temporary table (``suppression_import``, one text column per CSV column
and the line each row came from) at COPY's speed. Numbers shaped like E.164 are checked for
that shape only and stored as written, unparsed: one phonenumbers writes otherwise
(``+4402079460958``) or thinks no valid number is listed as the file has it, and lookups
try that form too. The others are normalised in Python, to canonical E.164, into a second
table (``suppression_import_fixed``); one statement then adds them all
(``repository.add_statement``). Both tables go at the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import IO, cast

import psycopg
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.orm import Session

from orchestrator.suppression.numbers import E164_SHAPE_SQL
from orchestrator.suppression.repository import NewEntries, add_statement

COPY_BLOCK = 1 << 20
# Numbers that were not in E.164, read and written back this many at a time.
FIX_BATCH = 10_000


def _raw(session: Session) -> psycopg.Connection[tuple[object, ...]]:
    driver = session.connection().connection.driver_connection
    return cast("psycopg.Connection[tuple[object, ...]]", driver)


def _columns(width: int) -> str:
    return ", ".join(f"c{i}" for i in range(width))


def load_file(session: Session, *, source: IO[bytes], width: int) -> None:
    """Every row of the CSV in ``source`` (header first) into ``suppression_import``.

    Raises ``psycopg.errors.DataError`` (with the line) for a file COPY cannot read.
    """
    columns = ", ".join(f"c{i} text" for i in range(width))
    # The header is line 1: each row's line is its line in the file (unless a quoted field
    # spans lines).
    session.execute(
        text(
            "CREATE TEMP TABLE suppression_import "
            f"(line bigint GENERATED ALWAYS AS IDENTITY (START WITH 2), {columns}) ON COMMIT DROP"
        )
    )
    session.execute(text("CREATE TEMP TABLE suppression_import_fixed (number text) ON COMMIT DROP"))
    statement = f"COPY suppression_import ({_columns(width)}) FROM STDIN (FORMAT csv, HEADER true)"
    with _raw(session).cursor() as cursor, cursor.copy(statement) as copy:
        while block := source.read(COPY_BLOCK):
            copy.write(block)


def _unshaped(column: int) -> str:
    return f"c{column} IS NULL OR c{column} !~ '{E164_SHAPE_SQL}'"


def unshaped_rows(
    session: Session, *, column: int, width: int
) -> Iterator[list[tuple[int, str | None]]]:
    """The rows whose number is not written in E.164, in batches, in file order; blank lines
    (every column empty) are no rows."""
    query = (
        f"SELECT line, c{column} FROM suppression_import WHERE ({_unshaped(column)}) "
        f"AND num_nulls({_columns(width)}) < {width} ORDER BY line"
    )
    with _raw(session).cursor(name="suppression_import_unshaped") as cursor:
        cursor.execute(query)
        while batch := cursor.fetchmany(FIX_BATCH):
            yield [(cast(int, line), cast("str | None", number)) for line, number in batch]


def add_fixed(session: Session, *, numbers: list[str]) -> None:
    """Numbers normalised in Python, to be added with the rows already in E.164."""
    with (
        _raw(session).cursor() as cursor,
        cursor.copy("COPY suppression_import_fixed (number) FROM STDIN") as copy,
    ):
        for number in numbers:
            copy.write_row((number,))


def add_imported(session: Session, *, column: int, entries: NewEntries) -> tuple[int, int]:
    """(distinct numbers, added): the file's E.164 rows and the fixed ones, in one statement."""
    numbers = (
        f"SELECT c{column} FROM suppression_import WHERE NOT ({_unshaped(column)}) "
        "UNION ALL SELECT number FROM suppression_import_fixed"
    )
    # Sorting and de-duplicating a million numbers in memory rather than on disk.
    session.execute(text("SET LOCAL work_mem = '256MB'"))
    row = session.execute(text(add_statement(numbers)), entries.params()).one()
    return int(row[0]), int(row[1])


def export_rows(
    session: Session, *, org_id: uuid.UUID | None, reason: str | None, sink: IO[bytes]
) -> int:
    """The entries (of one org, of one reason, when given) as CSV into ``sink``; how many."""
    conditions: list[sql.Composable] = [sql.SQL("TRUE")]
    if org_id is not None:
        conditions.append(sql.SQL("org_id = {}").format(sql.Literal(str(org_id))))
    if reason is not None:
        conditions.append(sql.SQL("reason = {}").format(sql.Literal(reason)))
    stamp = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS {}"
    statement = sql.SQL(
        "COPY (SELECT {org} number, reason, source, {created}, {expires} FROM suppressions "
        "WHERE {where} ORDER BY org_id, number) TO STDOUT (FORMAT csv, HEADER true)"
    ).format(
        org=sql.SQL("org_id," if org_id is None else ""),
        created=sql.SQL(stamp.format("created_at", "created_at")),
        expires=sql.SQL(stamp.format("expires_at", "expires_at")),
        where=sql.SQL(" AND ").join(conditions),
    )
    with _raw(session).cursor() as cursor:
        with cursor.copy(statement) as copy:
            for block in copy:
                sink.write(block)
        return max(cursor.rowcount, 0)
