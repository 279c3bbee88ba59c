"""Lines logged once per call at full speed: off unless ``ORCH_LOG_EACH_REQUEST`` asks for them.

At hundreds of calls a second, the API's access line for every provider webhook (four a call),
Celery's received/succeeded lines for every task and httpx's line for every request to the
provider (one a call) cost more CPU than the work they report; Flower, the metrics and the
webhook rejection warnings say the same. Anything that is not a success still reaches the
log: httpx logs each request at INFO whatever its answer, and a failed create is logged by the
flow that placed it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS

from orchestrator.config import get_settings

WEBHOOK_PATH = "/webhooks/vapi"
# Where Celery logs its per-task lines: "Task ... received" and "Task ... succeeded in ...s".
CELERY_TASK_LOGGERS = ("celery.app.trace", "celery.worker.strategy")
# Only those two: a retry, a rejection or a failure still reaches the log.
QUIET_TASK_MESSAGES = frozenset({LOG_RECEIVED, LOG_SUCCESS})
# httpx's logger: one "HTTP Request: ..." line at INFO for every request it sends.
HTTP_CLIENT_LOGGER = "httpx"


def _is_stored_webhook(args: object) -> bool:
    # uvicorn's access line's arguments: (client, method, path with query, version, status).
    if not isinstance(args, tuple) or len(args) != 5:
        return False
    path, status = args[2], args[4]
    return (
        isinstance(path, str)
        and path.split("?", 1)[0] == WEBHOOK_PATH
        and isinstance(status, int)
        and 200 <= status < 300
    )


class QuietWebhookAccess(logging.Filter):
    """Drops uvicorn's access line of a webhook that was stored (a 2xx); keeps every other."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _is_stored_webhook(record.args)


class _QuietAccessInfo:
    """uvicorn's access logger's ``info``, which drops a stored webhook's line before any
    record is made (a filter is only asked once the record exists, which costs more than the
    rest of the line's handling)."""

    def __init__(self, info: Callable[..., None]) -> None:
        self.info = info

    def __call__(self, msg: object, *args: object, **kwargs: Any) -> None:
        if not _is_stored_webhook(args):
            self.info(msg, *args, **kwargs)


def quiet_webhook_access_log() -> None:
    if get_settings().log_each_request:
        return
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QuietWebhookAccess) for f in access.filters):
        access.addFilter(QuietWebhookAccess())
    if not isinstance(access.info, _QuietAccessInfo):
        # On the instance: the class's ``info`` stays every other logger's.
        setattr(access, "info", _QuietAccessInfo(access.info))  # noqa: B010


class QuietTaskLines(logging.Filter):
    """Drops Celery's "received" and "succeeded" line of each task; keeps every other."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg not in QUIET_TASK_MESSAGES


def quiet_task_lines() -> None:
    """Celery's per-task received and succeeded lines off."""
    if get_settings().log_each_request:
        return
    for name in CELERY_TASK_LOGGERS:
        found = logging.getLogger(name)
        if not any(isinstance(f, QuietTaskLines) for f in found.filters):
            found.addFilter(QuietTaskLines())


def quiet_http_client_lines() -> None:
    """httpx's line for each request off: below WARNING its logger makes no record at all,
    where a filter would still pay for making each one."""
    if get_settings().log_each_request:
        return
    http_client = logging.getLogger(HTTP_CLIENT_LOGGER)
    if http_client.getEffectiveLevel() < logging.WARNING:
        http_client.setLevel(logging.WARNING)
