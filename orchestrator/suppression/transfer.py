"""Importing a CSV file into an org's suppression list, and exporting lists as CSV.

The import is all or nothing, as ``POST /suppression`` is: a file with an invalid number
writes nothing and names the lines, unless the invalid rows are to be skipped. No commits.
"""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

from psycopg.errors import DataError
from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.exceptions import NotFound, ValidationFailed
from orchestrator.models import Org
from orchestrator.suppression import transfer_repository
from orchestrator.suppression.gate_lock import wait_for_sends
from orchestrator.suppression.numbers import canonical_number
from orchestrator.suppression.repository import NewEntries
from orchestrator.suppression.schemas import SuppressionReason
from orchestrator.suppression.service import check_future

NUMBER_COLUMN = "number"
# Invalid lines an import names; the others are counted.
SHOWN_LINES = 10


@dataclass(frozen=True)
class ImportRequest:
    org_id: uuid.UUID
    path: Path
    reason: SuppressionReason
    source: str | None = None
    expires_at: datetime | None = None
    skip_invalid: bool = False


@dataclass
class ImportReport:
    added: int = 0
    already_present: int = 0
    invalid: int = 0
    # The first few lines of invalid rows, with what they held.
    invalid_lines: list[tuple[int, str | None]] = field(default_factory=list)

    def note_invalid(self, line: int, written: str | None) -> None:
        self.invalid += 1
        if len(self.invalid_lines) < SHOWN_LINES:
            self.invalid_lines.append((line, written))

    def invalid_messages(self) -> list[str]:
        messages = [
            f"line {line}: {_shown(written)} is not a valid phone number in E.164 (+ and "
            "country code)"
            for line, written in self.invalid_lines
        ]
        if self.invalid > len(self.invalid_lines):
            messages.append(f"... and {self.invalid - len(self.invalid_lines)} more invalid rows")
        return messages


def _shown(written: str | None) -> str:
    if written is None or not written.strip():
        return "an empty number"
    return repr(written[:40])


def number_column(source: IO[bytes], *, name: str) -> tuple[int, int]:
    """(the ``number`` column's index, how many columns) from the CSV's header line."""
    try:
        header = source.readline().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed([f"{name}: the header line is not UTF-8"]) from None
    names = [column.strip().lower() for column in next(csv.reader([header]), [])]
    if NUMBER_COLUMN not in names:
        raise ValidationFailed([f"{name}: the header line must name a '{NUMBER_COLUMN}' column"])
    return names.index(NUMBER_COLUMN), len(names)


def _fix_unshaped(session: Session, *, column: int, width: int, report: ImportReport) -> None:
    """Numbers written otherwise than in E.164 are normalised here, to canonical E.164; the
    rest is invalid. Those already shaped like E.164 stay as written (``numbers``)."""
    for batch in transfer_repository.unshaped_rows(session, column=column, width=width):
        fixed = []
        for line, written in batch:
            number = canonical_number(written) if written else None
            if number is None:
                report.note_invalid(line, written)
            else:
                fixed.append(number)
        transfer_repository.add_fixed(session, numbers=fixed)


def _load(session: Session, request: ImportRequest) -> tuple[int, int]:
    """The file in the import table; (the index of its number column, how many columns)."""
    name = request.path.name
    try:
        with request.path.open("rb") as source:
            column, width = number_column(source, name=name)
            source.seek(0)
            transfer_repository.load_file(session, source=source, width=width)
    except OSError as error:
        raise ValidationFailed([f"{name}: {error.strerror or error}"]) from None
    except DataError as error:
        where = f" ({error.diag.context.strip()})" if error.diag.context else ""
        raise ValidationFailed([f"{name}: {error.diag.message_primary}{where}"]) from None
    return column, width


def import_file(session: Session, *, request: ImportRequest) -> ImportReport:
    """Adds the file's numbers to the org's list in one statement, as ``POST /suppression``
    adds a request's (``repository.ON_CONFLICT``): an expired entry is replaced, a live one
    counts as already present but keeps the later expiry, and an opt-out takes it over."""
    now = utcnow()
    if session.get(Org, request.org_id) is None:
        raise NotFound("Org not found")
    check_future(request.expires_at, now=now, name="--expires-at")
    column, width = _load(session, request)
    report = ImportReport()
    _fix_unshaped(session, column=column, width=width, report=report)
    if report.invalid and not request.skip_invalid:
        raise ValidationFailed(report.invalid_messages())
    entries = NewEntries(
        org_id=request.org_id,
        reason=str(request.reason),
        source=request.source,
        expires_at=request.expires_at,
        now=now,
    )
    wait_for_sends(session, org_id=request.org_id)
    distinct, added = transfer_repository.add_imported(session, column=column, entries=entries)
    report.added, report.already_present = added, distinct - added
    return report


def export_file(
    session: Session, *, org_id: uuid.UUID | None, reason: str | None, sink: IO[bytes]
) -> int:
    """The entries as CSV (its ``number`` column imports again); how many were written."""
    if org_id is not None and session.get(Org, org_id) is None:
        raise NotFound("Org not found")
    return transfer_repository.export_rows(session, org_id=org_id, reason=reason, sink=sink)
