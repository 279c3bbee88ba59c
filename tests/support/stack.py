"""The whole stack in real processes for end-to-end tests, through ``orchestrator up``'s runner."""

from __future__ import annotations

import tempfile
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import pytest

from orchestrator.runner import StackInfo, StackOptions, running_stack


@dataclass
class RecordingSink:
    """Keeps the last lines of every child's output, to show when a test fails."""

    lines: deque[str] = field(default_factory=lambda: deque(maxlen=400))

    def emit(self, source: str, line: str) -> None:
        self.lines.append(f"{source:>8}| {line}")


@dataclass
class Stack:
    info: StackInfo
    sink: RecordingSink

    @property
    def api_url(self) -> str:
        return self.info.api_url

    @property
    def simulator_url(self) -> str:
        return self.info.simulator_url

    def logs(self) -> str:
        return "\n".join(self.sink.lines)


@contextmanager
def e2e_stack(
    options: StackOptions, *, environment: Mapping[str, str] | None = None
) -> Iterator[Stack]:
    """The stack of ``options``, its processes given ``environment`` (``ORCH_`` settings) too;
    its simulator starts empty in a directory of its own unless the options name one (the
    ground truth a test reads is its own)."""
    sink = RecordingSink()
    with (
        tempfile.TemporaryDirectory(prefix="e2e-simulator-") as state,
        pytest.MonkeyPatch.context() as patch,
    ):
        for name, value in (environment or {}).items():
            patch.setenv(name, value)
        if not options.simulator_state_dir:
            options = replace(options, simulator_state_dir=state, fresh_simulator=True)
        with running_stack(options, sink=sink) as info:
            yield Stack(info, sink)
