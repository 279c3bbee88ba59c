"""Scheduling tests run on the service's manual clock: rows are created at its instant."""

from __future__ import annotations

import pytest

from orchestrator.clock import ManualClock


@pytest.fixture(autouse=True)
def _frozen_clock(clock: ManualClock) -> ManualClock:
    return clock
