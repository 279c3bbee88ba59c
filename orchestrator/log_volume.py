"""Lines logged once per call at full speed: off unless ``ORCH_LOG_EACH_REQUEST`` asks for them.

At hundreds of calls a second, the API's access line for every provider webhook (four a call)
and Celery's received/succeeded lines for every task cost more CPU than the work they report;
Flower, the metrics and the webhook rejection warnings say the same. Anything that is not a
success still reaches the log.
"""

from __future__ import annotations

import logging

from orchestrator.config import get_settings

WEBHOOK_PATH = "/webhooks/vapi"
# Celery's per-task lines: "Task ... received" and "Task ... succeeded in ...s" (and retries).
CELERY_TASK_LOGGERS = ("celery.app.trace", "celery.worker.strategy")


class QuietWebhookAccess(logging.Filter):
    """Drops uvicorn's access line of a webhook that was stored (a 2xx); keeps every other."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access record: (client, method, path with query, http version, status).
        if not isinstance(args, tuple) or len(args) != 5:
            return True
        path, status = args[2], args[4]
        return not (
            isinstance(path, str)
            and path.split("?", 1)[0] == WEBHOOK_PATH
            and isinstance(status, int)
            and 200 <= status < 300
        )


def quiet_webhook_access_log() -> None:
    if get_settings().log_each_request:
        return
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QuietWebhookAccess) for f in access.filters):
        access.addFilter(QuietWebhookAccess())


def quiet_task_lines() -> None:
    """Celery's per-task INFO lines off (failures are logged at ERROR either way)."""
    if get_settings().log_each_request:
        return
    for name in CELERY_TASK_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
