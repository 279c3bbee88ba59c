"""``campaign_events_out``: campaign events delivered per second to a local receiver.

One campaign of ``EVENTS`` recorded events whose ``server.url`` is a local receiver (a
process of its own, HTTP/1.1 keep-alive, answering 200 at once). The dispatcher and the
deliveries run as the workers run them, with the default settings (the bound per receiver
included): the deliveries on ``THREADS`` threads, as the ``outbound`` worker's, each going
on to the receiver's next due events as the task does; the dispatcher once a second, as the
beat sends it. Each event is numbered, claimed with a lease, sent as a signed POST and its
result written. The figure is events delivered per second of wall time, from the first
dispatch until every event is ``delivered``.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.queues import Queue
from typing import Any

from sqlalchemy import func, select

from orchestrator.config import get_settings
from orchestrator.db import session_scope
from orchestrator.events.recording import record_events
from orchestrator.events.repository import NewEvent
from orchestrator.flows.deliver_events import deliver_events, dispatch_events
from orchestrator.models import Campaign, CampaignEventStatus, CampaignStatus, OutboxEvent
from orchestrator.orgs.service import create_org

EVENTS = 10_000
THREADS = 16
TIMEOUT_SECONDS = 300.0
# As the ``events.deliver`` task runs them.
KEEP_GOING = 10.0


class _Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes: with Nagle's algorithm the body would wait for
    # the sender's delayed acknowledgement (40 ms) on every answer.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(ports: Queue[int]) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    httpd.daemon_threads = True
    ports.put(int(httpd.server_address[1]))
    httpd.serve_forever()


@contextmanager
def receiver() -> Iterator[str]:
    """A receiver in a process of its own, so it takes no time from the deliveries measured."""
    context = multiprocessing.get_context("spawn")
    ports: Queue[int] = context.Queue()
    process = context.Process(target=_serve, args=(ports,), daemon=True)
    process.start()
    try:
        yield f"http://127.0.0.1:{ports.get(timeout=30)}/events"
    finally:
        process.terminate()
        process.join(timeout=10)


def seed(url: str) -> uuid.UUID:
    with session_scope() as session:
        org = create_org(session, name="events-out", concurrency_limit=10)
        campaign = Campaign(
            id=uuid.uuid4(),
            org_id=org.org_id,
            name="events out",
            status=CampaignStatus.IN_PROGRESS,
            assistant_id="assistant-bench",
            server={"url": url},
        )
        session.add(campaign)
        session.flush()
        events = [
            NewEvent(campaign.id, "contact.dispatched", {"contactId": str(uuid.uuid4())})
            for _ in range(EVENTS)
        ]
        record_events(session, events)
        return campaign.id


def _undelivered(campaign_id: uuid.UUID) -> int:
    with session_scope() as session:
        stmt = select(func.count()).where(
            OutboxEvent.campaign_id == campaign_id,
            OutboxEvent.status != CampaignEventStatus.DELIVERED,
        )
        return int(session.scalar(stmt) or 0)


def deliver_everything(campaign_id: uuid.UUID) -> float:
    """Seconds until every event of the campaign is delivered."""
    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        running: list[Future[Any]] = []

        def enqueue(event_ids: Sequence[uuid.UUID]) -> None:
            running.append(
                pool.submit(deliver_events, list(event_ids), keep_going_seconds=KEEP_GOING)
            )

        while _undelivered(campaign_id):
            if time.perf_counter() - started > TIMEOUT_SECONDS:
                raise RuntimeError("events were not all delivered in time")
            dispatch_events(enqueue=enqueue)
            done = [f for f in running if f.done()]
            for future in done:
                future.result()
                running.remove(future)
            time.sleep(get_settings().events_dispatch_interval_seconds)  # the beat
    return time.perf_counter() - started


def run() -> str:
    os.environ["ORCH_ALLOW_PRIVATE_SERVER_URLS"] = "true"  # the receiver is on loopback
    get_settings.cache_clear()
    settings = get_settings()
    with receiver() as url:
        campaign_id = seed(url)
        seconds = deliver_everything(campaign_id)
    return (
        f"campaign_events_out: {EVENTS / seconds:.0f} events/s "
        f"({EVENTS} events to one receiver in {seconds:.1f} s, "
        f"at most {settings.events_max_in_flight_per_receiver} out at once)"
    )


if __name__ == "__main__":
    from ops.bench.common import prepare_bench_database

    prepare_bench_database()
    print(run(), flush=True)
