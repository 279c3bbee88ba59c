"""Where the children's output goes: a sink per line, coloured source prefixes, redaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from rich.console import Console
from rich.text import Text

from orchestrator.runner.options import StackOptions

RUNNER_SOURCE = "up"


FIXED_COLOURS = {"api": "cyan", "sim": "magenta", "beat": "yellow", RUNNER_SOURCE: "bold"}
WORKER_COLOURS = ("green", "blue", "bright_green", "bright_blue", "bright_cyan", "bright_magenta")


def prefix_width(options: StackOptions) -> int:
    return max(len(name) for name in ("api", "sim", "beat", f"worker{options.workers}"))


class LogSink(Protocol):
    def emit(self, source: str, line: str) -> None: ...


class ConsoleSink:
    """``api    | line``: one colour per source, written through a (thread-safe) Rich console."""

    def __init__(self, console: Console, *, width: int = 7) -> None:
        self.console = console
        self.width = width

    def emit(self, source: str, line: str) -> None:
        text = Text(f"{source:<{self.width}}| ", style=_colour(source))
        text.append_text(Text.from_ansi(line))
        self.console.print(text, soft_wrap=True, highlight=False)


def _colour(source: str) -> str:
    if source in FIXED_COLOURS:
        return FIXED_COLOURS[source]
    index = source.removeprefix("worker")
    return WORKER_COLOURS[(int(index) - 1) % len(WORKER_COLOURS)] if index.isdigit() else "default"


def _redactor(hidden: Iterable[str]) -> Callable[[str], str]:
    values = [value for value in hidden if value]

    def redact(line: str) -> str:
        for value in values:
            line = line.replace(value, "***")
        return line

    return redact
