"""Runs the simulator as a standalone HTTP server (blocking)."""

from __future__ import annotations

import uvicorn

from orchestrator.simulator.app import create_simulator_app
from orchestrator.simulator.state import SimulatorConfig


def run_simulator(
    *,
    host: str = "127.0.0.1",
    port: int,
    profile: str = "fast",
    seed: int = 0,
    concurrency_limit: int = 10,
    log_level: str = "warning",
) -> None:
    """Serve a Vapi-compatible simulator until interrupted."""
    config = SimulatorConfig(profile=profile, seed=seed, concurrency_limit=concurrency_limit)
    app = create_simulator_app(config)
    # One worker: the simulator's ground truth lives in this process's memory.
    uvicorn.run(app, host=host, port=port, log_level=log_level.lower(), workers=1)
