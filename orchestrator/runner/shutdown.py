"""SIGINT and SIGTERM: the first raises ``Terminated``; later ones only hurry the stop."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class Terminated(BaseException):
    """SIGINT or SIGTERM arrived. A BaseException, so ``except Exception`` cannot swallow it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _ShutdownState:
    """Process-wide: the first signal raises ``Terminated``; later ones only hurry the stop."""

    def __init__(self) -> None:
        self.stopping = False
        self.hurry = threading.Event()

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.stopping:
            self.hurry.set()
            return
        self.stopping = True
        raise Terminated(signum)


_SHUTDOWN = _ShutdownState()


def hurry_requested() -> bool:
    """Whether a second SIGINT/SIGTERM arrived: whatever is still being tidied up should stop."""
    return _SHUTDOWN.hurry.is_set()


@contextlib.contextmanager
def handle_termination() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into ``Terminated`` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _SHUTDOWN.stopping = False
    _SHUTDOWN.hurry.clear()
    previous = {
        sig: signal.signal(sig, _SHUTDOWN.on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
