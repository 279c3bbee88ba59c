"""Per-call lines at full speed: the webhook access lines and Celery's per-task lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from orchestrator.config import get_settings
from orchestrator.log_volume import (
    CELERY_TASK_LOGGERS,
    QuietWebhookAccess,
    quiet_task_lines,
    quiet_webhook_access_log,
)


def _access(path: str, status: int) -> logging.LogRecord:
    """A record as uvicorn's access logger makes it."""
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", path, "1.1", status),
        None,
    )


@pytest.mark.parametrize(
    ("path", "status", "kept"),
    [
        ("/webhooks/vapi", 200, False),
        ("/webhooks/vapi?x=1", 204, False),
        ("/webhooks/vapi", 401, True),
        ("/webhooks/vapi", 413, True),
        ("/webhooks/vapi", 500, True),
        ("/campaign", 200, True),
        ("/webhooks/vapi-other", 200, True),
    ],
)
def test_only_stored_webhooks_lose_their_access_line(path: str, status: int, kept: bool) -> None:
    assert QuietWebhookAccess().filter(_access(path, status)) is kept


def test_a_record_of_another_shape_is_kept() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "odd %s", ("x",), None)
    assert QuietWebhookAccess().filter(record) is True


@pytest.fixture
def restored_loggers() -> Iterator[None]:
    access = logging.getLogger("uvicorn.access")
    filters = list(access.filters)
    levels = {name: logging.getLogger(name).level for name in CELERY_TASK_LOGGERS}
    yield
    access.filters[:] = filters
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    get_settings.cache_clear()


@pytest.mark.usefixtures("restored_loggers")
def test_by_default_the_quiet_settings_apply_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORCH_LOG_EACH_REQUEST", raising=False)
    get_settings.cache_clear()
    quiet_webhook_access_log()
    quiet_webhook_access_log()
    access = logging.getLogger("uvicorn.access")
    assert sum(isinstance(f, QuietWebhookAccess) for f in access.filters) == 1
    quiet_task_lines()
    for name in CELERY_TASK_LOGGERS:
        assert not logging.getLogger(name).isEnabledFor(logging.INFO)
        assert logging.getLogger(name).isEnabledFor(logging.ERROR)


@pytest.mark.usefixtures("restored_loggers")
def test_log_each_request_keeps_every_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCH_LOG_EACH_REQUEST", "true")
    get_settings.cache_clear()
    for name in CELERY_TASK_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    quiet_webhook_access_log()
    quiet_task_lines()
    access = logging.getLogger("uvicorn.access")
    assert not any(isinstance(f, QuietWebhookAccess) for f in access.filters)
    for name in CELERY_TASK_LOGGERS:
        assert logging.getLogger(name).level == logging.NOTSET
