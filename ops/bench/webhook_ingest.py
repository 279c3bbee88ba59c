"""``webhook_ingest``: provider webhooks taken in by one API process and applied, per second,
vs ``pgbench -N``.

One campaign of ``CALLS`` placed calls; every call gets the four messages a Vapi call sends
(``status-update`` ringing, in-progress and ended, then the ``end-of-call-report``), posted by
``SENDERS`` concurrent keep-alive connections to ``POST /webhooks/vapi`` of one API process,
beside one worker process that applies what the API stores (the default ``worker`` apply
mode). Each sender posts its calls' messages in order, one request at a time, as a provider
does. The figure is messages applied per second of wall time: from the first request until
every message is answered 2xx and applied (none is left waiting in the store). After the run
every call must have ended and the campaign's counters must equal a recount.

Baseline: ``pgbench -N`` (simple updates, ``SENDERS`` clients) on the same Postgres, in the same
run, on a database of its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import create_engine, func, select, text

from ops.bench.common import api_process, database_url_for, worker_process
from orchestrator.calls.service import record_provider_call
from orchestrator.campaigns.counters import counter_drift
from orchestrator.campaigns.schemas import CreateCampaignIn
from orchestrator.campaigns.service import create_campaign
from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.db import session_scope
from orchestrator.models import Call, CallStatus, Campaign
from orchestrator.orgs.service import create_org
from orchestrator.phone_numbers.repository import upsert_pacing
from orchestrator.scheduling.service import dispatch_org
from orchestrator.simulator.engine import end_of_call_report, status_update

CALLS = 5_000
SENDERS = 16
CALLER = "ingest-a"
PGBENCH_DATABASE = "orchestrator_pgbench"
PGBENCH_SCALE = 10
PGBENCH_SECONDS = 10
REASONS = ("customer-ended-call", "assistant-ended-call", "customer-did-not-answer", "voicemail")
WEBHOOK_PATH = "/webhooks/vapi"


@dataclass(frozen=True)
class IngestFigures:
    events: int
    # First request to last answer, and to the last message applied.
    answered_seconds: float
    seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds

    @property
    def answered_per_second(self) -> float:
        return self.events / self.answered_seconds


# --------------------------------------------------------------------------- setup


def _placed_campaign(calls: int) -> tuple[uuid.UUID, list[tuple[uuid.UUID, str]]]:
    """A campaign whose ``calls`` contacts are all dialed: (our id, provider id) per call."""
    with session_scope() as session:
        org = create_org(session, name=f"ingest-{uuid.uuid4()}", concurrency_limit=calls)
        upsert_pacing(
            session,
            org_id=org.org_id,
            provider_id=CALLER,
            calls_per_second=1_000_000,
            max_concurrency=None,
        )
        body = CreateCampaignIn.model_validate(
            {
                "name": "webhook ingest",
                "assistantId": "assistant-bench",
                "maxConcurrency": calls,
                "dialPlan": [
                    {
                        "phoneNumberId": CALLER,
                        "customers": [
                            {"number": f"+1628{2_000_000 + i:07d}"} for i in range(calls)
                        ],
                    }
                ],
            }
        )
        campaign = create_campaign(session, org_id=org.org_id, body=body)
        org_id, campaign_id = org.org_id, uuid.UUID(str(campaign["id"]))
    placed: list[tuple[uuid.UUID, str]] = []
    while len(placed) < calls:
        with session_scope() as session:
            result = dispatch_org(session, org_id=org_id, now=utcnow(), batch_limit=500)
            for call_id in result.calls_by_campaign.get(campaign_id, []):
                provider_id = f"bench-{uuid.uuid4()}"
                record_provider_call(session, call_id=call_id, provider_call={"id": provider_id})
                placed.append((call_id, provider_id))
        if not result.call_ids:
            raise RuntimeError(f"only {len(placed)} of {calls} calls could be dispatched")
    return campaign_id, placed


def _call_view(call_id: uuid.UUID, provider_id: str, index: int) -> dict[str, Any]:
    created = datetime(2026, 3, 2, 15, 0, tzinfo=UTC) + timedelta(milliseconds=index)
    reason = REASONS[index % len(REASONS)]
    answered = reason != "customer-did-not-answer"
    return {
        "id": provider_id,
        "type": "outboundPhoneCall",
        "status": "queued",
        "endedReason": reason,
        "createdAt": created.isoformat().replace("+00:00", "Z"),
        "startedAt": (created + timedelta(seconds=2)).isoformat().replace("+00:00", "Z"),
        "endedAt": (created + timedelta(seconds=40)).isoformat().replace("+00:00", "Z"),
        "cost": 0.09 if answered else 0.0,
        "phoneNumberId": CALLER,
        "customer": {"number": f"+1628{2_000_000 + index:07d}"},
        "assistantOverrides": {"metadata": {"orchestratorCallId": str(call_id)}},
        "analysis": {
            "summary": "The assistant spoke with the customer.",
            "successEvaluation": "true",
        },
        "artifact": {"transcript": "AI: Hello.\nUser: Hi.\n", "messages": []},
    }


def call_messages(call_id: uuid.UUID, provider_id: str, index: int) -> list[bytes]:
    """The four messages of one call, in the order the provider sends them."""
    call = _call_view(call_id, provider_id, index)
    bodies = []
    for status in ("ringing", "in-progress", "ended"):
        bodies.append(status_update({**call, "status": status}))
    bodies.append(end_of_call_report({**call, "status": "ended"}))
    return [json.dumps(body, separators=(",", ":")).encode() for body in bodies]


# --------------------------------------------------------------------------- sending


def _request(host: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {WEBHOOK_PATH} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["Content-Type: application/json", f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode() + body


async def _send_all(host: str, port: int, requests: Sequence[bytes]) -> None:
    """One keep-alive connection posting ``requests`` one after another; each must be 2xx."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for request in requests:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = re.search(rb"(?i)content-length:\s*(\d+)", head)
            body = await reader.readexactly(int(length.group(1)) if length else 0)
            if not 200 <= status < 300:
                raise RuntimeError(f"webhook answered {status}: {body[:200]!r}")
    finally:
        writer.close()


async def _send_concurrently(url: str, per_sender: Sequence[Sequence[bytes]]) -> float:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    await asyncio.gather(*(_send_all(host, port, requests) for requests in per_sender))
    return time.perf_counter()


def _wait_until_applied(timeout: float = 300) -> float:
    """When no stored message is left waiting to be applied."""
    engine = create_engine(get_settings().database_url)
    pending = text("SELECT EXISTS (SELECT 1 FROM webhook_events WHERE outcome IS NULL)")
    deadline = time.monotonic() + timeout
    try:
        with engine.connect() as connection:
            while connection.execute(pending).scalar():
                connection.rollback()
                if time.monotonic() > deadline:
                    raise RuntimeError("stored webhooks were not applied in time")
                time.sleep(0.005)
            return time.perf_counter()
    finally:
        engine.dispose()


def ingest_webhooks(url: str, calls: list[tuple[uuid.UUID, str]]) -> IngestFigures:
    settings = get_settings()
    headers = {settings.webhook_secret_header: settings.webhook_secret}
    host = urlsplit(url).netloc
    # Sender k posts every message of calls k, k + SENDERS, ...: a call's messages in order.
    per_sender: list[list[bytes]] = [[] for _ in range(SENDERS)]
    for index, (call_id, provider_id) in enumerate(calls):
        for body in call_messages(call_id, provider_id, index):
            per_sender[index % SENDERS].append(_request(host, body, headers))
    started = time.perf_counter()
    answered = asyncio.run(_send_concurrently(url, per_sender))
    applied = _wait_until_applied()
    events = sum(len(requests) for requests in per_sender)
    return IngestFigures(events, answered - started, applied - started)


def _check_exact(campaign_id: uuid.UUID, calls: int) -> None:
    with session_scope() as session:
        ended = session.scalar(
            select(func.count())
            .select_from(Call)
            .where(Call.campaign_id == campaign_id, Call.status == CallStatus.ENDED)
        )
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        drift = counter_drift(session, campaign=campaign)
        counted_ended = campaign.calls_counter_ended
    if ended != calls or drift or counted_ended != calls:
        raise RuntimeError(
            f"ingestion not exact: {ended} of {calls} calls ended, "
            f"ended counter {counted_ended}, drift {drift}"
        )


# --------------------------------------------------------------------------- pgbench


def _pgbench() -> str:
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))
    if not candidates:
        raise RuntimeError("pgbench not found (it comes with the postgresql package)")
    return str(candidates[-1])


def pgbench_tps() -> float:
    """``pgbench -N`` with ``SENDERS`` clients on a fresh database of the same server."""
    url = database_url_for(PGBENCH_DATABASE)
    parts = urlsplit(url.replace("postgresql+psycopg", "postgresql"))
    admin = create_engine(database_url_for("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {PGBENCH_DATABASE}"))
        connection.execute(text(f"CREATE DATABASE {PGBENCH_DATABASE}"))
    admin.dispose()
    env = {**os.environ, "PGHOST": parts.hostname or "127.0.0.1", "PGPORT": str(parts.port)}
    env["PGUSER"] = parts.username or "postgres"
    if parts.password:
        env["PGPASSWORD"] = parts.password
    pgbench = _pgbench()
    init = [pgbench, "-i", "-q", "-s", str(PGBENCH_SCALE), PGBENCH_DATABASE]
    subprocess.run(init, env=env, check=True, capture_output=True)
    run = [pgbench, "-N", "-c", str(SENDERS), "-j", "2", "-T", str(PGBENCH_SECONDS)]
    output = subprocess.run(
        [*run, PGBENCH_DATABASE], env=env, check=True, capture_output=True, text=True
    ).stdout
    match = re.search(r"tps = ([\d.]+)", output)
    if match is None:
        raise RuntimeError(f"pgbench printed no tps: {output}")
    return float(match.group(1))


# --------------------------------------------------------------------------- the bench


def run() -> str:
    campaign_id, calls = _placed_campaign(CALLS)
    with worker_process(), api_process() as url:
        figures = ingest_webhooks(url, calls)
    _check_exact(campaign_id, CALLS)
    tps = pgbench_tps()
    return (
        f"webhook_ingest: {figures.per_second:.0f} events/s "
        f"({figures.per_second / tps:.2f} x vs pgbench at {tps:.0f} tps; "
        f"{figures.events} events from {SENDERS} senders to one API process, "
        f"answered at {figures.answered_per_second:.0f} events/s)"
    )


if __name__ == "__main__":
    from ops.bench.common import prepare_bench_database

    prepare_bench_database()
    print(run(), flush=True)
