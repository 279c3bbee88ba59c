"""Where the stack's output goes: a log file, with the runner's lines and errors echoed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from rich.console import Console

from orchestrator.devstack import devstack_root
from orchestrator.runner import RUNNER_SOURCE, ConsoleSink, LogSink, StackOptions, prefix_width

ERROR_ECHO_LIMIT = 20
ERROR_MARKERS = ("ERROR", "CRITICAL", "Traceback")


class _DemoLogSink:
    """Every line to the log file; the runner's own lines and errors also to the console."""

    def __init__(self, stream: TextIO, path: Path, console: Console, width: int) -> None:
        self.stream = stream
        self.path = path
        self.echo = ConsoleSink(console, width=width)
        self.errors_echoed = 0
        self.lock = threading.Lock()

    def emit(self, source: str, line: str) -> None:
        with self.lock:
            self.stream.write(f"{source:<{self.echo.width}}| {line}\n")
            self.stream.flush()
            if source != RUNNER_SOURCE and not self._echo_error(line):
                return
        self.echo.emit(source, line)

    def _echo_error(self, line: str) -> bool:
        if not any(marker in line for marker in ERROR_MARKERS):
            return False
        self.errors_echoed += 1
        if self.errors_echoed == ERROR_ECHO_LIMIT + 1:
            self.echo.emit(RUNNER_SOURCE, f"further errors only in {self.path}")
        return self.errors_echoed <= ERROR_ECHO_LIMIT


@contextmanager
def log_sink(stack: StackOptions, console: Console, *, verbose: bool) -> Iterator[LogSink]:
    width = prefix_width(stack)
    if verbose:
        yield ConsoleSink(console, width=width)
        return
    path = devstack_root() / "demo.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as stream:
        console.print(f"[dim]process logs: {path}[/dim]")
        yield _DemoLogSink(stream, path, console, width)
