"""``contacts_export_1m``: ``GET /campaign/{id}/export`` of 1,000,000 contacts over HTTP.

One campaign of a million contacts, each with three variables, most of them ended with a
call (times, cost, summary), vacuumed and analyzed. The export is read from a real API
process as a client would, streamed; the figure is the time to the last byte, with the
rows per second and the API process's peak resident memory before and after the export
(constant memory: the peak barely moves while a million rows go through).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session

from ops.bench.common import api_process
from orchestrator.campaigns import counter_repository
from orchestrator.campaigns.counters import CounterDeltas, counter_deltas
from orchestrator.contacts.states import ContactStatus
from orchestrator.db import get_engine, session_scope
from orchestrator.models import Campaign, CampaignStatus
from orchestrator.orgs.service import create_org

CONTACTS = 1_000_000
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
# Each contact's status by its position modulo 10: mostly ended, some still to dial.
STATUS_CYCLE = [ContactStatus.COMPLETED] * 6 + [ContactStatus.FAILED] * 2
STATUS_CYCLE += [ContactStatus.PENDING, ContactStatus.SKIPPED]


def _rows(campaign_id: uuid.UUID, org_id: uuid.UUID) -> Iterator[tuple[Any, ...]]:
    for i in range(CONTACTS):
        number = f"+1415{i:07d}"
        status = STATUS_CYCLE[i % len(STATUS_CYCLE)]
        variables = {"appointment date": f"2026-04-{i % 28 + 1:02d}", "clinic": "North", "n": i}
        customer = {"number": number, "name": f"Customer {i}"}
        customer["assistantOverrides"] = {"variableValues": variables}  # type: ignore[assignment]
        yield (
            uuid.uuid4(),
            campaign_id,
            org_id,
            i,
            "export-a",
            number,
            f"tel:{number}",
            json.dumps(customer),
            status.value,
            0 if status in (ContactStatus.PENDING, ContactStatus.SKIPPED) else 1,
            NOW,
            NOW,
            NOW,
        )


def _copy_contacts(session: Session, campaign_id: uuid.UUID, org_id: uuid.UUID) -> None:
    raw = session.connection().connection.driver_connection
    assert raw is not None
    columns = "id, campaign_id, org_id, position, phone_number_id, number, dedupe_key, customer, "
    columns += "status, attempts, not_before, created_at, updated_at"
    with raw.cursor() as cursor, cursor.copy(f"COPY contacts ({columns}) FROM STDIN") as copy:
        for row in _rows(campaign_id, org_id):
            copy.write_row(row)


def _add_calls(session: Session, campaign_id: uuid.UUID) -> None:
    session.execute(
        text(
            "INSERT INTO calls (id, org_id, campaign_id, contact_id, attempt, provider_call_id, "
            "status, ended_reason, customer, started_at, ended_at, cost, summary, "
            "created_at, updated_at) "
            "SELECT gen_random_uuid(), org_id, campaign_id, id, 1, 'p-' || id, 'ended', "
            "CASE status WHEN 'completed' THEN 'customer-ended-call' "
            "ELSE 'customer-did-not-answer' END, customer, :now, :ended, 0.042, "
            "'The customer confirmed the appointment.', :now, :now FROM contacts "
            "WHERE campaign_id = :campaign AND status IN ('completed', 'failed')"
        ),
        {"campaign": campaign_id, "now": NOW, "ended": NOW + timedelta(seconds=47)},
    )


def seed_campaign() -> tuple[uuid.UUID, str]:
    """The campaign's id and its org's API key."""
    with session_scope() as session:
        org = create_org(session, name="contacts-export", concurrency_limit=10)
        campaign = Campaign(
            id=uuid.uuid4(),
            org_id=org.org_id,
            name="export 1m",
            status=CampaignStatus.IN_PROGRESS,
            assistant_id="assistant-bench",
            phone_number_id="export-a",
            caller_number_ids=["export-a"],
            contacts_total=CONTACTS,
            created_at=NOW,
        )
        session.add(campaign)
        session.flush()
        _copy_contacts(session, campaign.id, org.org_id)
        deltas = CounterDeltas()
        for status in STATUS_CYCLE:
            deltas += counter_deltas(contact_after=status) * (CONTACTS // len(STATUS_CYCLE))
        counter_repository.add_counter_shards(session, campaign_id=campaign.id, initial=deltas)
        _add_calls(session, campaign.id)
        return campaign.id, org.api_key


def _peak_rss_mb(api_url: str) -> float:
    """The peak resident memory of the API process serving ``api_url`` (its VmHWM)."""
    flag = f"--port={urlparse(api_url).port}".encode()
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and flag in (proc / "cmdline").read_bytes():
                status = (proc / "status").read_text()
                line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
                return int(line.split()[1]) / 1024
        except OSError:
            continue
    return float("nan")


def _export(api_url: str, campaign_id: uuid.UUID, api_key: str) -> tuple[int, int]:
    """(lines, bytes) of the export, read as it streams."""
    lines = size = 0
    headers = {"Authorization": f"Bearer {api_key}"}
    with (
        httpx.Client(base_url=api_url, headers=headers, timeout=600) as client,
        client.stream("GET", f"/campaign/{campaign_id}/export") as answer,
    ):
        answer.raise_for_status()
        for chunk in answer.iter_bytes():
            lines += chunk.count(b"\n")
            size += len(chunk)
    return lines, size


def run() -> str:
    campaign_id, api_key = seed_campaign()
    with get_engine().connect() as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        autocommit.execute(text("VACUUM ANALYZE contacts"))
        autocommit.execute(text("VACUUM ANALYZE calls"))
    with api_process() as api_url:
        headers = {"Authorization": f"Bearer {api_key}"}
        httpx.get(f"{api_url}/v2/campaign/{campaign_id}", headers=headers, timeout=30)
        before = _peak_rss_mb(api_url)
        started = time.perf_counter()
        lines, size = _export(api_url, campaign_id, api_key)
        seconds = time.perf_counter() - started
        after = _peak_rss_mb(api_url)
    assert lines == CONTACTS + 1, lines
    return (
        f"contacts_export_1m: {seconds:.1f} s ({CONTACTS / seconds:,.0f} rows/s, "
        f"{size / 2**20:.0f} MiB; API peak RSS {before:.0f} → {after:.0f} MiB)"
    )


if __name__ == "__main__":
    from ops.bench.common import prepare_bench_database

    prepare_bench_database()
    print(run(), flush=True)
