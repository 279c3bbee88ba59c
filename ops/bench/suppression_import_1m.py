"""``suppression_import_1m``: ``orchestrator suppression import`` of a million numbers, timed
against a plain COPY of the same rows.

A CSV of 1,000,000 distinct valid US numbers in shuffled order is written first, and beside
it the rows the import ends up writing (org, number, reason, source, times) as COPY's text.
The plain COPY streams those rows into a scratch table made like ``suppressions`` (the same
columns, indexes and foreign key). The import runs what the command runs (``import_file``):
it streams the CSV, checks and normalises every number, and adds them to the org's list. Each
is run twice on empty tables and its better time kept, as the machine may be busy. The ratio
is COPY's time over the import's: 1.0 is COPY's speed. Nothing holds the million numbers in
memory: files are written and read a block at a time.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from ops.bench.common import checkpoint
from orchestrator.config import get_settings
from orchestrator.db import session_scope
from orchestrator.orgs.service import create_org
from orchestrator.suppression.schemas import SuppressionReason
from orchestrator.suppression.transfer import ImportRequest, import_file
from orchestrator.suppression.transfer_repository import COPY_BLOCK
from orchestrator.wire import is_valid_e164

NUMBERS = 1_000_000
RUNS = 2
AREA_CODES = (
    "201", "206", "212", "213", "303", "305", "312", "404", "415", "503",
    "512", "602", "617", "650", "702", "713", "808", "919", "971", "972",
)  # fmt: skip
# Coprime with NUMBERS: i -> i * STRIDE mod NUMBERS visits every index once, out of order.
STRIDE = 7919
CHUNK = 10_000
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SOURCE = "bench"


def bench_number(index: int) -> str:
    """The ``index``-th number: an area code, then exchanges 200-204, every line of each."""
    area = AREA_CODES[index % len(AREA_CODES)]
    rest = index // len(AREA_CODES)
    return f"+1{area}{200 + rest // 10_000}{rest % 10_000:04d}"


def shuffled_numbers() -> Iterator[list[str]]:
    """Every bench number once, in a scattered order, a chunk at a time."""
    for start in range(0, NUMBERS, CHUNK):
        yield [bench_number((i * STRIDE + 12_345) % NUMBERS) for i in range(start, start + CHUNK)]


def write_files(folder: Path, *, org_id: uuid.UUID) -> tuple[Path, Path]:
    """The CSV to import, and the same rows as the plain COPY takes them."""
    csv_path, rows_path = folder / "numbers.csv", folder / "rows.tsv"
    stamp = NOW.isoformat()
    with csv_path.open("w") as csv_file, rows_path.open("w") as rows_file:
        csv_file.write("number,name\n")
        for chunk in shuffled_numbers():
            csv_file.write("".join(f"{number},Customer\n" for number in chunk))
            rows_file.write("".join(f"{org_id}\t{n}\tdnc\t{SOURCE}\t{stamp}\t\\N\n" for n in chunk))
    return csv_path, rows_path


def check_numbers() -> None:
    """The numbers are valid and distinct (a sample checked with phonenumbers; all counted)."""
    assert all(is_valid_e164(bench_number(i)) for i in range(0, NUMBERS, 997))
    assert len({(i * STRIDE + 12_345) % NUMBERS for i in range(NUMBERS)}) == NUMBERS


def _empty_tables() -> None:
    with session_scope() as session:
        session.execute(text("TRUNCATE suppressions, suppression_copy"))
    checkpoint(get_settings().database_url)


def plain_copy(rows_path: Path) -> None:
    columns = "org_id, number, reason, source, created_at, expires_at"
    with session_scope() as session, rows_path.open("rb") as rows:
        raw = session.connection().connection.driver_connection
        assert raw is not None
        statement = f"COPY suppression_copy ({columns}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            while block := rows.read(COPY_BLOCK):
                copy.write(block)


def timed(run: Callable[[], object]) -> float:
    _empty_tables()
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def run() -> str:
    check_numbers()
    with session_scope() as session:
        org_id = create_org(session, name="suppression-import", concurrency_limit=10).org_id
        session.execute(
            text(
                "CREATE TABLE suppression_copy (LIKE suppressions INCLUDING ALL, "
                "FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE)"
            )
        )
    with tempfile.TemporaryDirectory() as folder:
        csv_path, rows_path = write_files(Path(folder), org_id=org_id)
        request = ImportRequest(
            org_id=org_id, path=csv_path, reason=SuppressionReason.DNC, source=SOURCE
        )

        def run_import() -> None:
            with session_scope() as session:
                report = import_file(session, request=request)
            assert (report.added, report.invalid) == (NUMBERS, 0), report

        copy_times, import_times = [], []
        for _ in range(RUNS):
            copy_times.append(timed(lambda: plain_copy(rows_path)))
            import_times.append(timed(run_import))
    copy_seconds, import_seconds = min(copy_times), min(import_times)
    ratio = copy_seconds / import_seconds
    return f"suppression_import_1m: {import_seconds:.2f} s ({ratio:.2f} x vs COPY)"


if __name__ == "__main__":
    from ops.bench.common import prepare_bench_database

    prepare_bench_database()
    print(run(), flush=True)
