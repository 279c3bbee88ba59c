"""Campaign events out: number them, claim the due ones, deliver them (what the tasks run).

The dispatcher (``events.dispatch``, every second) numbers new events per campaign, then
claims due events with a lease, at most ``events_max_in_flight_per_receiver`` per receiver
URL, and hands them out in batches (``events.deliver``, on the ``outbound`` queue). A delivery
reads its events, sends each (no transaction is open while it waits on the receiver) and
records what came of it. A lease ends on its own, so events a killed worker held go out
again: delivery is at least once, and receivers deduplicate by event id.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

import httpx

from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.db import UnitOfWork, session_scope
from orchestrator.events import repository
from orchestrator.events.delivery import (
    Attempt,
    DefaultBackoff,
    envelope,
    event_headers,
    next_attempt_at,
    server_target,
)
from orchestrator.events.metrics import count_attempts
from orchestrator.events.repository import Deliverable
from orchestrator.user_servers.schemas import DEFAULT_TIMEOUT_SECONDS
from orchestrator.user_servers.sending import ServerAnswer, post_to_server

logger = logging.getLogger(__name__)

# Time a batch's lease allows beyond its sends' timeouts (queueing, writing results).
LEASE_MARGIN = timedelta(seconds=30)
# The dispatcher loops while work remains, but not past this (the next beat comes).
PASS_TIME_LIMIT = timedelta(seconds=5)

# Delivered events deleted per transaction when the old ones are cleared out.
PRUNE_BATCH = 5000

EnqueueDeliveries = Callable[[Sequence[uuid.UUID]], None]


@dataclass
class DispatchRun:
    numbered: int = 0
    claimed: int = 0
    batches: list[list[uuid.UUID]] = field(default_factory=list)


def _batches_by_receiver(
    rows: Sequence[tuple[uuid.UUID, uuid.UUID, int, str, float | None]],
    *,
    room: Callable[[str], int],
    batch_size: int,
) -> list[tuple[list[uuid.UUID], float]]:
    """Up to ``room(url)`` events per receiver, in campaign and sequence order, in batches;
    each with the longest wait its sends may take."""
    by_url: dict[str, list[tuple[uuid.UUID, uuid.UUID, int, float]]] = defaultdict(list)
    for event_id, campaign_id, sequence, url, timeout in rows:
        by_url[url].append((event_id, campaign_id, sequence, timeout or DEFAULT_TIMEOUT_SECONDS))
    batches = []
    for url, events in by_url.items():
        taken = sorted(events[: max(room(url), 0)], key=lambda e: (e[1], e[2]))
        for start in range(0, len(taken), batch_size):
            chunk = taken[start : start + batch_size]
            batches.append(([e[0] for e in chunk], sum(e[3] for e in chunk)))
    return batches


def _claim(
    unit_of_work: UnitOfWork,
    *,
    now: datetime,
    limit: int,
    url: str | None = None,
    max_batches: int | None = None,
) -> list[list[uuid.UUID]]:
    """Lease due events (to ``url`` only, if given) in batches, within each receiver's room."""
    settings = get_settings()
    with unit_of_work() as session:
        repository.lock_claims(session)
        rows = repository.due_events(session, now=now, limit=limit, url=url)
        if not rows:
            return []
        leased = repository.leased_by_url(session, now=now)
        cap = settings.events_max_in_flight_per_receiver
        batches = _batches_by_receiver(
            [tuple(row) for row in rows],  # type: ignore[misc]
            room=lambda to: cap - leased.get(to, 0),
            batch_size=settings.events_delivery_batch,
        )[:max_batches]
        for event_ids, wait_seconds in batches:
            lease_until = now + timedelta(seconds=wait_seconds) + LEASE_MARGIN
            repository.lease_events(session, event_ids=event_ids, lease_until=lease_until)
    return [event_ids for event_ids, _ in batches]


def dispatch_events(
    *,
    enqueue: EnqueueDeliveries,
    unit_of_work: UnitOfWork = session_scope,
    clock: Callable[[], datetime] = utcnow,
) -> DispatchRun:
    """Number new events and hand out the due ones, passing again while a pass was full."""
    limit = get_settings().events_dispatch_limit
    run = DispatchRun()
    started = clock()
    while True:
        with unit_of_work() as session:
            numbered = repository.number_events(session, limit=limit) or 0
        batches = _claim(unit_of_work, now=clock(), limit=limit)
        for batch in batches:  # after the commit that leased them
            enqueue(batch)
        claimed = sum(len(batch) for batch in batches)
        run.numbered += numbered
        run.claimed += claimed
        run.batches.extend(batches)
        full = numbered >= limit or claimed >= limit
        if not full or clock() - started > PASS_TIME_LIMIT:
            return run


def prune_delivered_events(
    *, unit_of_work: UnitOfWork = session_scope, clock: Callable[[], datetime] = utcnow
) -> int:
    """Delete events delivered longer ago than ``events_keep_delivered_seconds`` (failed and
    pending ones stay); a batch a transaction, until none is left; how many went."""
    settings = get_settings()
    before = clock() - timedelta(seconds=settings.events_keep_delivered_seconds)
    deleted = 0
    while True:
        with unit_of_work() as session:
            batch = repository.delete_delivered(session, before=before, limit=PRUNE_BATCH)
        deleted += batch
        if batch < PRUNE_BATCH:
            return deleted


@lru_cache(maxsize=1)
def delivery_client() -> httpx.Client:
    """One pool of connections per process, kept alive between deliveries to a receiver."""
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
    return httpx.Client(limits=limits, trust_env=False)


@dataclass
class DeliveryRun:
    delivered: int = 0
    retried: int = 0
    failed: int = 0


def _send(client: httpx.Client, event: Deliverable, *, allow_private: bool) -> ServerAnswer:
    event_id, campaign_id = str(event.id), str(event.campaign_id)
    body = envelope(
        event_id=event_id,
        campaign_id=campaign_id,
        sequence=event.sequence,
        event_type=event.event_type,
        data=event.data,
        occurred_at=event.occurred_at,
    )
    return post_to_server(
        client,
        server_target(event.server),
        body=body,
        timestamp=str(int(utcnow().timestamp())),
        secret=event.signing_secret,
        allow_private=allow_private,
        extra_headers=event_headers(
            event_id=event_id, campaign_id=campaign_id, sequence=event.sequence
        ),
    )


def _default_backoff() -> DefaultBackoff:
    settings = get_settings()
    return DefaultBackoff(
        base_seconds=settings.events_retry_base_seconds,
        max_delay_seconds=settings.events_retry_max_delay_seconds,
        max_age_seconds=settings.events_retry_max_age_seconds,
    )


def _record(
    unit_of_work: UnitOfWork, results: list[tuple[Deliverable, ServerAnswer]], run: DeliveryRun
) -> None:
    """A batch's results in one transaction (a worker killed before it sends them again)."""
    now = utcnow()
    backoff = _default_backoff()
    outcomes: Counter[str] = Counter()
    latencies = []
    with unit_of_work() as session:
        taken = [event for event, answer in results if answer.ok]
        delivered = repository.mark_delivered(
            session, event_ids=[event.id for event in taken], now=now
        )
        for event in taken:
            if event.id in delivered:
                outcomes["delivered"] += 1
                latencies.append((now - event.occurred_at).total_seconds())
        for event, answer in results:
            if answer.ok:
                continue
            attempt = Attempt(event.attempts + 1, answer.status_code, event.retry_window_from, now)
            plan = event.server.get("backoffPlan")
            retry_at = next_attempt_at(attempt, default=backoff, backoff_plan=plan)
            error = answer.describe()
            logger.warning(
                "campaign event %s (campaign %s) not delivered: %s; %s",
                event.id,
                event.campaign_id,
                error,
                f"retry at {retry_at.isoformat()}" if retry_at is not None else "given up",
            )
            if repository.mark_attempt_failed(
                session, event_id=event.id, error=error, retry_at=retry_at
            ):
                outcomes["retried" if retry_at is not None else "failed"] += 1
    run.delivered += outcomes["delivered"]
    run.retried += outcomes["retried"]
    run.failed += outcomes["failed"]
    count_attempts(outcomes, latencies=latencies)


def deliver_events(
    event_ids: Sequence[uuid.UUID],
    *,
    unit_of_work: UnitOfWork = session_scope,
    client: httpx.Client | None = None,
    keep_going_seconds: float = 0.0,
) -> DeliveryRun:
    """Send each still pending event of ``event_ids``, in sequence order, and record the results.

    Nothing is held open while the receiver takes its time. With ``keep_going_seconds``, the
    delivery then claims the next due events to the same receiver (within its room) and
    sends them too, until none is due, the time is up or the receiver took none of a batch:
    a receiver that keeps up is kept busy without waiting for the dispatcher's next beat, and
    one that is down is not hammered.
    """
    sender = client or delivery_client()
    allow_private = get_settings().allow_private_server_urls
    batch_size = get_settings().events_delivery_batch
    deadline = time.monotonic() + keep_going_seconds
    run = DeliveryRun()
    while event_ids:
        with unit_of_work() as session:
            events = repository.deliverables(session, event_ids=event_ids)
        results = [(event, _send(sender, event, allow_private=allow_private)) for event in events]
        _record(unit_of_work, results, run)
        # A receiver that took none of these waits for its retries, not for more of the same.
        took_any = any(answer.ok for _, answer in results)
        if not took_any or time.monotonic() >= deadline:
            break
        url = server_target(events[0].server).url
        claimed = _claim(unit_of_work, now=utcnow(), limit=batch_size, url=url, max_batches=1)
        event_ids = claimed[0] if claimed else []
    return run
