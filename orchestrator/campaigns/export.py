"""``GET /campaign/{id}/export``: a campaign's contacts and their outcome as CSV, streamed.

The header follows Vapi's CSV convention for customers (``number``, ``name``, ``email``,
``externalId``, ``timezone``), then the outcome of each contact, then one column per variable
name (``assistantOverrides.variableValues``) so the file can be edited and imported again
(``POST /campaign/{id}/customers`` reads unknown columns as variables: drop the outcome
columns first). Past ``MAX_VARIABLE_COLUMNS`` names, and for names that would clash with a
column of ours, the rest of a contact's variables go in one ``variables`` column as JSON.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from orchestrator.campaigns import export_repository
from orchestrator.campaigns.service import require_campaign

FIXED_COLUMNS = (
    "number",
    "name",
    "email",
    "externalId",
    "timezone",
    "status",
    "skipReason",
    "attempts",
    "lastCallId",
    "endedReason",
    "startedAt",
    "endedAt",
    "durationSeconds",
    "cost",
    "summary",
    "textStatus",
)
OVERFLOW_COLUMN = "variables"
# Enough for any form a person fills in; a campaign with more names is not a spreadsheet.
MAX_VARIABLE_COLUMNS = 100
# Rows fetched from the cursor, and written to the answer, at a time.
CHUNK_ROWS = 5_000


@dataclass(frozen=True)
class ExportPlan:
    campaign_id: uuid.UUID
    variables: tuple[str, ...]
    overflow: bool
    texts: bool

    @property
    def header(self) -> list[str]:
        return [*FIXED_COLUMNS, *self.variables, *([OVERFLOW_COLUMN] if self.overflow else [])]


def plan_export(session: Session, *, org_id: uuid.UUID, campaign_id: str) -> ExportPlan:
    """What the export of the org's campaign will hold (a 404 when it has no such campaign)."""
    campaign = require_campaign(session, org_id, campaign_id, lock=False)
    names = export_repository.variable_names(
        session, campaign_id=campaign.id, limit=MAX_VARIABLE_COLUMNS + 1
    )
    taken = {*FIXED_COLUMNS, OVERFLOW_COLUMN}
    columns = [name for name in names if name not in taken][:MAX_VARIABLE_COLUMNS]
    return ExportPlan(
        campaign_id=campaign.id,
        variables=tuple(columns),
        overflow=len(columns) < len(names),
        texts=export_repository.has_texts(session, campaign_id=campaign.id),
    )


class _Buffer:
    """What the CSV writer wrote since the last chunk was taken."""

    def __init__(self) -> None:
        self._text = io.StringIO()

    def write(self, value: str) -> int:
        return self._text.write(value)

    def take(self) -> bytes:
        value = self._text.getvalue()
        self._text.seek(0)
        self._text.truncate()
        return value.encode()


def csv_chunks(
    session: Session, *, plan: ExportPlan, chunk_rows: int | None = None
) -> Iterator[bytes]:
    """The CSV, one chunk of rows at a time: the header first, then every contact."""
    buffer = _Buffer()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(plan.header)
    yield buffer.take()
    statement = export_repository.export_statement(
        campaign_id=plan.campaign_id,
        variables=plan.variables,
        overflow=plan.overflow,
        texts=plan.texts,
    )
    rows: Sequence[object]
    for rows in export_repository.export_rows(
        session, statement=statement, chunk_size=chunk_rows or CHUNK_ROWS
    ):
        writer.writerows(rows)
        yield buffer.take()
