"""What a flow runs with in a test: a unit of work inside the test's transaction, and a task
queue that keeps what it was sent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from orchestrator.db import UnitOfWork
from orchestrator.enqueue import DISPATCH_ORG, TaskQueue


class RecordedTasks(TaskQueue):
    """The tasks the code under test sent, by name and arguments, kept instead of sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[str, ...]]] = []

    def send(self, name: str, *args: str) -> None:
        self.sent.append((name, args))

    def dispatched_orgs(self) -> list[uuid.UUID]:
        return [uuid.UUID(args[0]) for name, args in self.sent if name == DISPATCH_ORG]


def unit_of(session: Session) -> UnitOfWork:
    """A flow's unit of work inside the test's transaction: its commits become savepoints."""

    @contextmanager
    def unit() -> Iterator[Session]:
        yield session
        session.commit()

    return unit
