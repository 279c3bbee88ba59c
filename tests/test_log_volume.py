"""Per-call lines at full speed: the webhook access lines and Celery's per-task lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from celery.app.trace import LOG_RECEIVED, LOG_RETRY, LOG_SUCCESS

from orchestrator.config import get_settings
from orchestrator.log_volume import (
    CELERY_TASK_LOGGERS,
    HTTP_CLIENT_LOGGER,
    QuietTaskLines,
    QuietWebhookAccess,
    quiet_http_client_lines,
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


@pytest.mark.parametrize(
    ("message", "kept"),
    [(LOG_RECEIVED, False), (LOG_SUCCESS, False), (LOG_RETRY, True), ("Task %s raised", True)],
)
def test_only_received_and_succeeded_task_lines_go(message: str, kept: bool) -> None:
    record = logging.LogRecord("celery.app.trace", logging.INFO, __file__, 1, message, {}, None)
    assert QuietTaskLines().filter(record) is kept


@pytest.fixture
def bare_loggers() -> Iterator[None]:
    """The loggers without any filter of ours; as they were afterwards."""
    names = ("uvicorn.access", *CELERY_TASK_LOGGERS)
    saved = {name: list(logging.getLogger(name).filters) for name in names}
    for name in names:
        found = logging.getLogger(name)
        found.filters[:] = [
            f for f in found.filters if not isinstance(f, QuietWebhookAccess | QuietTaskLines)
        ]
    info = logging.getLogger("uvicorn.access").__dict__.pop("info", None)
    yield
    for name, filters in saved.items():
        logging.getLogger(name).filters[:] = filters
    logging.getLogger("uvicorn.access").__dict__.pop("info", None)
    if info is not None:
        logging.getLogger("uvicorn.access").info = info  # type: ignore[method-assign]
    get_settings.cache_clear()


def _ours(name: str) -> int:
    kinds = QuietWebhookAccess | QuietTaskLines
    return sum(isinstance(f, kinds) for f in logging.getLogger(name).filters)


@pytest.mark.usefixtures("bare_loggers")
def test_by_default_the_quiet_filters_are_installed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORCH_LOG_EACH_REQUEST", raising=False)
    get_settings.cache_clear()
    for _ in range(2):
        quiet_webhook_access_log()
        quiet_task_lines()
    assert [_ours(n) for n in ("uvicorn.access", *CELERY_TASK_LOGGERS)] == [1, 1, 1]


class _Made(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        assert isinstance(record.args, tuple)
        self.paths.append(str(record.args[2]))


@pytest.mark.usefixtures("bare_loggers")
def test_a_stored_webhooks_access_line_is_never_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORCH_LOG_EACH_REQUEST", raising=False)
    get_settings.cache_clear()
    access = logging.getLogger("uvicorn.access")
    made: list[str] = []
    make_record = logging.Logger.makeRecord

    def counted(self: logging.Logger, *args: object, **kwargs: object) -> logging.LogRecord:
        made.append(self.name)
        return make_record(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(logging.Logger, "makeRecord", counted)
    # As a server runs it, whatever an earlier test's logging configuration left.
    monkeypatch.setattr(access, "disabled", False)
    monkeypatch.setattr(logging.root.manager, "disable", logging.NOTSET)
    level = access.level
    access.setLevel(logging.INFO)  # and its cached answers cleared
    handler = _Made()
    access.addHandler(handler)
    try:
        quiet_webhook_access_log()
        quiet_webhook_access_log()
        line = '%s - "%s %s HTTP/%s" %d'
        access.info(line, "127.0.0.1:1", "POST", "/webhooks/vapi", "1.1", 200)
        access.info(line, "127.0.0.1:1", "POST", "/webhooks/vapi", "1.1", 401)
        access.info(line, "127.0.0.1:1", "GET", "/campaign", "1.1", 200)
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    assert handler.paths == ["/webhooks/vapi", "/campaign"]
    assert made == ["uvicorn.access", "uvicorn.access"]


@pytest.mark.usefixtures("bare_loggers")
def test_log_each_request_keeps_every_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCH_LOG_EACH_REQUEST", "true")
    get_settings.cache_clear()
    quiet_webhook_access_log()
    quiet_task_lines()
    assert [_ours(n) for n in ("uvicorn.access", *CELERY_TASK_LOGGERS)] == [0, 0, 0]


@pytest.fixture
def http_client_logger() -> Iterator[logging.Logger]:
    """httpx's logger at INFO, as a worker's ``--loglevel=INFO`` leaves it; as it was after."""
    found = logging.getLogger(HTTP_CLIENT_LOGGER)
    saved = found.level
    found.setLevel(logging.INFO)
    yield found
    found.setLevel(saved)
    get_settings.cache_clear()


def test_by_default_httpx_makes_no_record_of_each_request(
    monkeypatch: pytest.MonkeyPatch, http_client_logger: logging.Logger
) -> None:
    monkeypatch.delenv("ORCH_LOG_EACH_REQUEST", raising=False)
    get_settings.cache_clear()
    quiet_http_client_lines()
    assert not http_client_logger.isEnabledFor(logging.INFO)
    assert http_client_logger.isEnabledFor(logging.WARNING)


def test_log_each_request_keeps_httpx_lines(
    monkeypatch: pytest.MonkeyPatch, http_client_logger: logging.Logger
) -> None:
    monkeypatch.setenv("ORCH_LOG_EACH_REQUEST", "true")
    get_settings.cache_clear()
    quiet_http_client_lines()
    assert http_client_logger.isEnabledFor(logging.INFO)
