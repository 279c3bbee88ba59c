"""``sms_dispatch``: texts of one caller number sent at its messages-per-second limit.

The whole stack with two worker processes: ``PUT /phone-number/{id}/pacing`` sets the
number's ``messagesPerSecond``, ``TEXTS`` texts are stored queued (as a campaign stores them)
and the dispatcher on the beat hands them to the workers, which send each through the
simulator's ``POST /chat``. Judged on the simulator's ground truth, when it created each chat:
the rate from the first to the last over the limit (at least 0.95 wanted), and the most chats
in any one-second window (never above the limit).
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from ops.bench.common import prepare_bench_database
from ops.bench.pacing_accuracy import (
    WORKERS,
    _own_redis_database,
    _TailSink,
    achieved_rate,
    max_in_window,
)
from orchestrator.clock import utcnow
from orchestrator.config import get_settings
from orchestrator.runner import StackError, StackInfo, StackOptions, running_stack
from orchestrator.texts.service import TextRequest, queue_text

TEXTS = 600
LIMIT_PER_SECOND = 20.0
CONCURRENCY = 8
LIST_PAGE = 1000
POLL_SECONDS = 1.0
ACHIEVED_AT_LEAST = 0.95


def _store_texts(stack: StackInfo, phone_number_id: str, count: int) -> None:
    engine = create_engine(get_settings().database_url)
    now = utcnow()
    try:
        with Session(engine) as session:
            for index in range(count):
                request = TextRequest(
                    org_id=stack.org_id,
                    input="Your appointment is tomorrow at 10.",
                    phone_number_id=phone_number_id,
                    customer={"number": f"+1415556{index:04d}"},
                    assistant_id="bench-assistant",
                    transport={"type": "twilio.sms", "useLLMGeneratedMessageForOutbound": False},
                )
                queue_text(session, request=request, now=now)
            session.commit()
    finally:
        engine.dispose()


def _chats(stack: StackInfo) -> list[dict[str, Any]]:
    """Every chat the simulator made, paging ``GET /chat``."""
    found: dict[str, dict[str, Any]] = {}
    with httpx.Client(base_url=stack.simulator_url, timeout=30, trust_env=False) as client:
        page = 1
        while True:
            params: dict[str, str | int] = {"limit": LIST_PAGE, "page": page}
            response = client.get("/chat", headers={"Authorization": "Bearer bench"}, params=params)
            response.raise_for_status()
            body = response.json()
            listed = body["results"] if isinstance(body, dict) else body
            found.update((chat["id"], chat) for chat in listed)
            if len(listed) < LIST_PAGE:
                return list(found.values())
            page += 1


def _wait_for(stack: StackInfo, count: int, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        stack.raise_if_failed()
        chats = _chats(stack)
        if len(chats) >= count or time.monotonic() >= deadline:
            return chats
        time.sleep(POLL_SECONDS)


def run_ours(texts: int = TEXTS, limit: float = LIMIT_PER_SECOND) -> tuple[float, int]:
    """Texts per second achieved, and the most in any one-second window."""
    phone_number_id = f"sms-{uuid.uuid4().hex[:8]}"
    options = StackOptions(
        api_port=0,
        simulator_port=0,
        workers=WORKERS,
        concurrency=CONCURRENCY,
        profile="fast",
        fresh_simulator=True,
    )
    sink = _TailSink()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-simulator-") as state,
            _own_redis_database(),
            running_stack(replace(options, simulator_state_dir=state), sink=sink) as stack,
        ):
            headers = {"Authorization": f"Bearer {stack.api_key}"}
            pacing = {"callsPerSecond": 1, "messagesPerSecond": limit}
            httpx.put(
                f"{stack.api_url}/phone-number/{phone_number_id}/pacing",
                json=pacing,
                headers=headers,
                trust_env=False,
            ).raise_for_status()
            _store_texts(stack, phone_number_id, texts)
            chats = _wait_for(stack, texts, 60.0 + 4 * texts / limit)
    except (StackError, RuntimeError, TimeoutError, httpx.HTTPError):
        print("\n".join(sink.lines), file=sys.stderr)
        raise
    times = [datetime.fromisoformat(str(chat["createdAt"])).timestamp() for chat in chats]
    if len(times) < texts:
        print(f"sms_dispatch: {len(times)} of {texts} texts sent", file=sys.stderr)
    return achieved_rate(times) or 0.0, max_in_window(times)


def format_line(rate: float, most: int, limit: float = LIMIT_PER_SECOND) -> str:
    ratio = rate / limit
    line = f"sms_dispatch: {rate:.1f} texts/s ({ratio:.2f} x vs limit)"
    if ratio < ACHIEVED_AT_LEAST or most > limit:
        line += f" BELOW {ACHIEVED_AT_LEAST} OR OVER: {most} in one second"
    return line


def run() -> str:
    return format_line(*run_ours())


if __name__ == "__main__":
    prepare_bench_database()
    print(run(), flush=True)
