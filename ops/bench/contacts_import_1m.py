"""``contacts_import_1m``: a CSV of a million customers appended to a campaign through
``POST /campaign/{id}/customers`` over HTTP, timed against a plain COPY of the same rows.

The CSV has the number, a name and three variable columns (one header with a space), the
million distinct valid US numbers of ``suppression_import_1m`` in scattered order. Beside it
are the rows the append ends up writing into ``contacts`` (the same customer JSON, dedupe key
and zone key), as COPY's text. The plain COPY streams those into ``contacts`` for another
campaign; the append streams the file to a real API process, which checks each row,
de-duplicates it and COPYs it. Each runs twice on an empty ``contacts`` table and its better
time is kept. The ratio is COPY's time over the append's: 1.0 is COPY's speed. The API
process's peak resident memory above what it held before the first append is printed too.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text

from ops.bench.common import api_process, checkpoint
from ops.bench.suppression_import_1m import NUMBERS, check_numbers, shuffled_numbers
from orchestrator.config import get_settings
from orchestrator.contacts.repository import COPY_COLUMNS
from orchestrator.db import session_scope
from orchestrator.orgs.service import create_org
from orchestrator.scheduling.calling_hours.zone_key import contact_zone_key
from orchestrator.suppression.transfer_repository import COPY_BLOCK

RUNS = 2
PHONE = "phone-bench"
HEADER = "number,name,appointment date,plan,city\n"
VARIABLES = {"appointment date": "Friday 3pm", "plan": "gold", "city": "Springfield"}
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def write_files(folder: Path, *, org_id: uuid.UUID, campaign_id: uuid.UUID) -> tuple[Path, Path]:
    """The CSV to append, and the same contacts as the plain COPY takes them."""
    csv_path, rows_path = folder / "customers.csv", folder / "contacts.tsv"
    cells = ",".join(VARIABLES.values())
    stamp = NOW.isoformat()
    position = 0
    with csv_path.open("w") as csv_file, rows_path.open("w") as rows_file:
        csv_file.write(HEADER)
        for chunk in shuffled_numbers():
            csv_file.write("".join(f"{number},Customer,{cells}\n" for number in chunk))
            lines = []
            for number in chunk:
                customer = {
                    "number": number,
                    "name": "Customer",
                    "assistantOverrides": {"variableValues": VARIABLES},
                }
                zone = contact_zone_key(number=number, customer_timezone=None)
                lines.append(
                    f"{uuid.uuid4()}\t{campaign_id}\t{org_id}\t{position}\t{PHONE}\t{number}\t"
                    f"tel:{number}\t{json.dumps(customer)}\tpending\t0\t{zone}\t"
                    f"{stamp}\t{stamp}\t{stamp}\n"
                )
                position += 1
            rows_file.write("".join(lines))
    return csv_path, rows_path


def plain_copy(rows_path: Path) -> None:
    with session_scope() as session, rows_path.open("rb") as rows:
        raw = session.connection().connection.driver_connection
        assert raw is not None
        statement = f"COPY contacts ({', '.join(COPY_COLUMNS)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            while block := rows.read(COPY_BLOCK):
                copy.write(block)


def _blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while block := source.read(COPY_BLOCK):
            yield block


def _paused_campaign(client: httpx.Client) -> str:
    body = {"name": "import", "assistantId": "assistant-1", "phoneNumberId": PHONE}
    response = client.post("/campaign", json={**body, "status": "paused"})
    response.raise_for_status()
    return str(response.json()["id"])


def append_over_http(client: httpx.Client, csv_path: Path) -> Callable[[], None]:
    def run() -> None:
        campaign_id = _paused_campaign(client)
        response = client.post(
            f"/campaign/{campaign_id}/customers",
            content=_blocks(csv_path),
            headers={"Content-Type": "text/csv"},
        )
        assert response.status_code == 201, response.text[:2000]
        assert response.json()["added"] == NUMBERS, response.text[:2000]

    return run


def _empty_contacts() -> None:
    with session_scope() as session:
        session.execute(text("TRUNCATE contacts CASCADE"))
    checkpoint(get_settings().database_url)


def timed(run: Callable[[], object]) -> float:
    _empty_contacts()
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _api_pid(url: str) -> int:
    """The API process serving ``url`` (``common.api_process`` starts it with its port)."""
    port = url.rsplit(":", 1)[1]
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"api" in argv and f"--port={port}".encode() in argv:
                return int(proc.name)
    raise RuntimeError(f"no API process on port {port}")


def run() -> str:
    check_numbers()
    with session_scope() as session:
        created = create_org(session, name="contacts-import", concurrency_limit=10)
    with (
        tempfile.TemporaryDirectory() as folder,
        api_process() as url,
        httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {created.api_key}"}, timeout=600
        ) as client,
    ):
        copy_target = uuid.UUID(_paused_campaign(client))
        csv_path, rows_path = write_files(
            Path(folder), org_id=created.org_id, campaign_id=copy_target
        )
        pid = _api_pid(url)
        resident = _memory_kib(pid, "VmRSS")
        copy_times, append_times = [], []
        for _ in range(RUNS):
            copy_times.append(timed(lambda: plain_copy(rows_path)))
            append_times.append(timed(append_over_http(client, csv_path)))
        growth_mib = (_memory_kib(pid, "VmHWM") - resident) / 1024
    copy_seconds, append_seconds = min(copy_times), min(append_times)
    ratio = copy_seconds / append_seconds
    return (
        f"contacts_import_1m: {append_seconds:.2f} s ({ratio:.2f} x vs COPY), "
        f"API peak RSS +{growth_mib:.0f} MiB"
    )


if __name__ == "__main__":
    from ops.bench.common import prepare_bench_database

    prepare_bench_database()
    print(run(), flush=True)
