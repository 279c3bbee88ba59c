"""``orchestrator suppression add|remove``, and ``import``/``export`` without ``--org``: the
org's suppression list through the API (``/suppression``), as its API key sees it.

An import reads the file's ``number`` column and checks every number first, so a file with an
invalid row sends nothing (unless ``--skip-invalid``); then it posts the numbers in requests of
at most ``MAX_NUMBERS``. An export pages through ``GET /suppression`` and writes the columns
the database export writes, so either file imports again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Annotated, Any
from urllib.parse import quote

import typer
from rich.console import Console

from orchestrator.console.client import (
    DEFAULT_API_URL,
    ApiClient,
    ApiKeyOption,
    ApiUrlOption,
    connected,
    fail,
)
from orchestrator.suppression.cli import print_import_report, suppression_app
from orchestrator.suppression.numbers import canonical_number
from orchestrator.suppression.schemas import MAX_NUMBERS, SuppressionReason

console = Console()
EXPORT_COLUMNS = ("number", "reason", "source", "created_at", "expires_at")
PAGE_SIZE = 1000
SHOWN_INVALID = 10


@dataclass
class ReadNumbers:
    numbers: list[str] = field(default_factory=list)
    invalid: list[tuple[int, str]] = field(default_factory=list)

    def invalid_messages(self) -> list[str]:
        shown = [
            f"line {line}: {written[:40]!r} is not a valid number in E.164 (with its country code)"
            for line, written in self.invalid[:SHOWN_INVALID]
        ]
        if len(self.invalid) > SHOWN_INVALID:
            shown.append(f"... and {len(self.invalid) - SHOWN_INVALID} more invalid rows")
        return shown


def read_numbers(path: Path) -> ReadNumbers:
    """The canonical numbers of the file's ``number`` column, and its invalid rows by line."""
    read = ReadNumbers()
    try:
        with path.open(encoding="utf-8-sig", newline="") as source:
            rows = csv.reader(source)
            names = [name.strip().lower() for name in next(rows, [])]
            if "number" not in names:
                fail([f"{path}: the header line must name a 'number' column"])
            column = names.index("number")
            for row in rows:
                written = row[column].strip() if column < len(row) else ""
                if not any(cell.strip() for cell in row):
                    continue
                number = canonical_number(written)
                if number is None:
                    read.invalid.append((rows.line_num, written))
                else:
                    read.numbers.append(number)
    except (OSError, UnicodeDecodeError) as error:
        fail([f"{path}: {getattr(error, 'strerror', None) or error}"])
    return read


def _chunks(numbers: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(numbers), MAX_NUMBERS):
        yield numbers[start : start + MAX_NUMBERS]


def _entry_body(
    numbers: list[str], reason: SuppressionReason, source: str | None, expires_at: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"numbers": numbers, "reason": str(reason)}
    if source is not None:
        body["source"] = source
    if expires_at is not None:
        body["expiresAt"] = expires_at
    return body


@dataclass(frozen=True)
class ImportOverApi:
    path: Path
    reason: SuppressionReason
    source: str | None
    expires_at: str | None
    skip_invalid: bool
    as_json: bool


def import_over_api(request: ImportOverApi, *, api_url: str, api_key: str) -> None:
    """``suppression import`` without ``--org``: the file's numbers posted in chunks."""
    read = read_numbers(request.path)
    if read.invalid and not request.skip_invalid:
        fail([*read.invalid_messages(), "nothing was added (--skip-invalid adds the others)"])
    added = present = 0
    with connected(api_url, api_key) as api:
        for chunk in _chunks(read.numbers):
            body = _entry_body(chunk, request.reason, request.source, request.expires_at)
            answer = api.json("POST", "/suppression", json=body)
            added += answer["added"]
            present += answer["alreadyPresent"]
    print_import_report(
        added=added,
        already_present=present,
        invalid_lines=[line for line, _ in read.invalid],
        invalid=len(read.invalid),
        messages=read.invalid_messages(),
        as_json=request.as_json,
    )


def _pages(api: ApiClient, reason: str | None) -> Iterator[list[dict[str, Any]]]:
    page = 1
    while True:
        query: dict[str, Any] = {"limit": PAGE_SIZE, "page": page}
        if reason is not None:
            query["reason"] = reason
        answer = api.json("GET", "/suppression", params=query)
        yield answer["results"]
        if not answer["metadata"].get("hasNextPage"):
            return
        page += 1


def export_over_api(sink: IO[bytes], *, reason: str | None, api_url: str, api_key: str) -> int:
    """``suppression export`` without ``--org``: every entry of the key's org, as CSV."""
    text = io.TextIOWrapper(sink, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    with connected(api_url, api_key) as api:
        for entries in _pages(api, reason):
            writer.writerows(
                [e["number"], e["reason"], e.get("source"), e["createdAt"], e.get("expiresAt")]
                for e in entries
            )
            count += len(entries)
    text.detach()
    return count


@suppression_app.command("add")
def add_numbers(
    numbers: Annotated[list[str], typer.Argument(help="Numbers, in E.164 (+14155550100).")],
    reason: Annotated[SuppressionReason, typer.Option(help="Why these numbers are listed.")],
    source: Annotated[str | None, typer.Option(help="Free text: where they came from.")] = None,
    expires_at: Annotated[
        str | None, typer.Option(help="When the entries stop applying (ISO 8601, with offset).")
    ] = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = "",
) -> None:
    """Add numbers to the org's list, through the API: all of them, or none."""
    if len(numbers) > MAX_NUMBERS:
        fail([f"at most {MAX_NUMBERS} numbers at once: use suppression import"])
    with connected(api_url, api_key) as api:
        body = _entry_body(numbers, reason, source, expires_at)
        answer = api.json("POST", "/suppression", json=body)
    typer.echo(f"added {answer['added']}, already present {answer['alreadyPresent']}")


@suppression_app.command("remove")
def remove_number(
    number: Annotated[str, typer.Argument(help="The number to take off the list.")],
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = "",
) -> None:
    """Take a number off the org's list, through the API."""
    with connected(api_url, api_key) as api:
        entry = api.json("DELETE", f"/suppression/{quote(number, safe='')}")
    typer.echo(f"removed {entry['number']} ({entry['reason']})")
