"""Reading customers from a CSV body, a block at a time, in Vapi's dashboard convention.

The header names the columns: ``number`` (required), ``name``, ``email``, ``externalId``,
``sipUri``, ``extension`` and our ``timezone`` are the customer's fields; every other column
is a variable in the customer's ``assistantOverrides.variableValues`` under its header as
written, so ``{{ ["appointment date"] }}`` reaches a column with a space. An empty cell
leaves its field or variable out.

Rows are named by their line in the file, the header being line 1: a spreadsheet's row
numbers (a quoted field that spans lines makes the next rows' numbers follow the file's
lines). Nothing here holds more than one block and one row.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from orchestrator.campaigns.schemas import CustomerIn
from orchestrator.exceptions import ValidationFailed
from orchestrator.scheduling.calling_hours.schemas import is_zone_name
from orchestrator.wire import E164_SHAPE, is_valid_e164, nest_message

NUMBER_COLUMN = "number"
# The customer's fields a column may name, with the longest value each takes.
FIELD_COLUMNS = {
    "number": 40,
    "name": 40,
    "email": 40,
    "externalId": 40,
    "sipUri": 255,
    "extension": 10,
    "timezone": 64,
}
# A line longer than this is no customer: refused before it fills the memory.
MAX_LINE_CHARS = 1 << 20
VARIABLES = "variableValues"


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one row: its line (or a JSON customer's index), the column, why."""

    row: int
    column: str | None
    reason: str

    def message(self, *, csv_rows: bool) -> str:
        if not csv_rows:
            where = f"customers.{self.row}" + (f".{self.column}" if self.column else "")
            return f"{where} {self.reason}"
        column = f", column {self.column}" if self.column else ""
        return f"row {self.row}{column}: {self.reason}"


@dataclass(frozen=True)
class CsvColumns:
    names: list[str]

    @classmethod
    def of_header(cls, names: list[str]) -> CsvColumns:
        """The header's columns, or a 400 naming what is wrong with it."""
        errors: list[str] = []
        seen: set[str] = set()
        known = {name.lower(): name for name in FIELD_COLUMNS}
        for index, name in enumerate(names, start=1):
            if not name.strip():
                errors.append(f"CSV header: column {index} has no name")
            elif "\x00" in name:
                errors.append(f"CSV header: column {index} must not contain NUL characters")
            elif name in seen:
                errors.append(f"CSV header: column {name!r} appears twice")
            elif name not in FIELD_COLUMNS and name.lower() in known:
                errors.append(
                    f"CSV header: column {name!r} must be written {known[name.lower()]!r}"
                )
            seen.add(name)
        if NUMBER_COLUMN not in names and not errors:
            errors.append(f"CSV header: a {NUMBER_COLUMN!r} column is required")
        if errors:
            raise ValidationFailed(errors)
        return cls(names)


def _lines(blocks: Iterable[bytes]) -> Iterator[str]:
    """The body's text a line at a time (``\\n`` kept), UTF-8 with or without a BOM."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending = ""
    first = True
    for block in blocks:
        try:
            text = decoder.decode(block)
        except UnicodeDecodeError:
            raise ValidationFailed(["the body is not UTF-8 text (CSV)"]) from None
        if first and text:
            text, first = text.removeprefix("\ufeff"), False
        *complete, pending = (pending + text).split("\n")
        for line in complete:
            yield line + "\n"
        if len(pending) > MAX_LINE_CHARS:
            raise ValidationFailed([f"a line is longer than {MAX_LINE_CHARS} characters"])
    try:
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ValidationFailed(["the body is not UTF-8 text (CSV)"]) from None
    if pending:
        yield pending


def csv_records(blocks: Iterable[bytes]) -> tuple[CsvColumns, Iterator[tuple[int, list[str]]]]:
    """The header's columns, and each later record with the line it starts on."""
    reader = csv.reader(_lines(blocks), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise ValidationFailed([f"CSV header: {error}"]) from None
    if not header:
        raise ValidationFailed(["the CSV body is empty: its first line must name the columns"])
    return CsvColumns.of_header(header), _records(reader)


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader, None)
        except csv.Error as error:
            raise ValidationFailed([f"row {start}: {error}"]) from None
        if cells is None:
            return
        if cells:
            yield start, cells
        start = reader.line_num + 1


def _plain_sip_uri(sip_uri: str) -> bool:
    """Not blank, and its lower-cased form (the de-duplication key's) not longer than allowed."""
    if not sip_uri.strip():
        return False
    return sip_uri.isascii() or len(sip_uri.strip().lower()) <= FIELD_COLUMNS["sipUri"]


def _quickly_valid(fields: dict[str, str]) -> bool:
    """True only where ``CustomerIn`` would accept ``fields`` too (the common case, cheaply);
    the others go through ``CustomerIn`` itself for its messages."""
    for name, value in fields.items():
        if len(value) > FIELD_COLUMNS[name] or "\x00" in value:
            return False
    number = fields.get(NUMBER_COLUMN)
    if number is not None and not (E164_SHAPE.match(number) and is_valid_e164(number)):
        return False
    sip_uri = fields.get("sipUri")
    if sip_uri is None and number is None:
        return False
    if sip_uri is not None and not _plain_sip_uri(sip_uri):
        return False
    zone = fields.get("timezone")
    return zone is None or is_zone_name(zone)


def customer_of_row(
    columns: CsvColumns, line: int, cells: list[str]
) -> tuple[dict[str, Any] | None, list[RowProblem]]:
    """The customer of one row as ``CustomerIn`` dumps one, or what is wrong with it."""
    if len(cells) != len(columns.names):
        reason = f"has {len(cells)} cells where the header has {len(columns.names)} columns"
        return None, [RowProblem(line, None, reason)]
    customer: dict[str, Any] = {}
    variables: dict[str, str] = {}
    for name, cell in zip(columns.names, cells, strict=True):
        if not cell:
            continue
        if name in FIELD_COLUMNS:
            customer[name] = cell
        else:
            variables[name] = cell
    problems = [
        RowProblem(line, name, "must not contain NUL characters")
        for name, value in variables.items()
        if "\x00" in value
    ]
    checked: dict[str, Any] | None = customer
    if not _quickly_valid(customer):
        checked, problems = _checked(customer, line, problems)
    if problems or checked is None:
        return None, problems
    if variables:
        checked["assistantOverrides"] = {VARIABLES: variables}
    return checked, []


def _checked(
    fields: dict[str, str], line: int, problems: list[RowProblem]
) -> tuple[dict[str, Any] | None, list[RowProblem]]:
    try:
        parsed = CustomerIn.model_validate(fields)
    except ValidationError as error:
        return None, problems + problems_of(error, row=line)
    return parsed.model_dump(by_alias=True, exclude_unset=True), problems


def problems_of(error: ValidationError, *, row: int) -> list[RowProblem]:
    """A customer's validation errors as row problems (column: the field's wire name)."""
    found: list[RowProblem] = []
    for detail in error.errors():
        column = ".".join(str(part) for part in detail["loc"]) or None
        message = nest_message(detail).removeprefix(f"{column or 'body'} ")
        found.append(RowProblem(row, column, message))
    return found
