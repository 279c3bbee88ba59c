"""Runs the simulator as a standalone HTTP server (blocking)."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from orchestrator.simulator.app import create_simulator_app
from orchestrator.simulator.faults import FaultSpec, parse_faults
from orchestrator.simulator.state import SimulatorConfig


def run_simulator(
    *,
    host: str = "127.0.0.1",
    port: int,
    profile: str = "fast",
    seed: int = 0,
    concurrency_limit: int = 10,
    log_level: str = "warning",
    faults: str | FaultSpec = "",
    webhook_hmac_secret: str = "",
    state_dir: Path | None = None,
    fresh: bool = False,
    phone_numbers: tuple[str, ...] = (),
) -> None:
    """Serve a Vapi-compatible simulator until interrupted.

    ``faults`` is a ``--faults`` spec or a parsed one; a bad spec raises ``FaultSpecError``
    before anything is served. With ``state_dir`` the state survives restarts (``fresh``:
    start empty); a dir another simulator holds raises ``SimulatorStateLocked`` before anything
    is served (see ``journal``). ``phone_numbers`` are ``ID`` or ``ID=+E164`` items it knows
    from the start; a bad one raises ``PhoneNumberSpecError`` before anything is served.
    """
    spec = parse_faults(faults) if isinstance(faults, str) else faults
    config = SimulatorConfig(
        profile=profile,
        seed=seed,
        concurrency_limit=concurrency_limit,
        faults=spec,
        webhook_hmac_secret=webhook_hmac_secret,
        state_dir=state_dir,
        fresh=fresh,
        phone_numbers=phone_numbers,
    )
    app = create_simulator_app(config)
    # One worker: the simulator's ground truth lives in this process's memory (and its journal).
    # A line per request only when asked for (below info nothing would print it anyway).
    level = log_level.lower()
    access_log = level in ("trace", "debug", "info")
    uvicorn.run(app, host=host, port=port, log_level=level, access_log=access_log, workers=1)
