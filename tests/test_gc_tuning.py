"""The served processes collect garbage at a slower pace, with what they set up frozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from orchestrator.gc_tuning import YOUNG_THRESHOLD, tune_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_collector")
def test_tuning_raises_the_young_threshold_and_freezes_what_was_set_up() -> None:
    before = gc.get_threshold()
    set_up = [object() for _ in range(10)]

    tune_collector()

    assert gc.get_threshold() == (YOUNG_THRESHOLD, before[1], before[2])
    assert gc.get_freeze_count() >= len(set_up)


@pytest.mark.usefixtures("restored_collector")
def test_the_api_command_serves_the_tuned_app(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from orchestrator.app import OrchestratorApp, create_served_app
    from orchestrator.cli import app

    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: served.append(target))

    result = CliRunner().invoke(app, ["api", "--port", "8123"])

    assert result.exit_code == 0, result.output
    assert served == ["orchestrator.app:create_served_app"]
    assert isinstance(create_served_app(), OrchestratorApp)
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
