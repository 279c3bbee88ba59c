"""A Vapi-compatible fake call provider over real HTTP, for tests and load runs.

``create_simulator_app(SimulatorConfig(...))`` builds the FastAPI app; ``run_simulator(port=...)``
serves it. Call outcomes come from the deterministic ``decide_outcome`` documented in
``orchestrator.simulator.outcomes``; injected faults (``--faults``) are documented in
``orchestrator.simulator.faults`` and webhook signing in ``orchestrator.simulator.webhooks``.
"""

from orchestrator.simulator.app import create_simulator_app
from orchestrator.simulator.faults import FaultSpec, FaultSpecError, parse_faults
from orchestrator.simulator.outcomes import PROFILES, Outcome, Profile, decide_outcome
from orchestrator.simulator.server import run_simulator
from orchestrator.simulator.state import SimulatorConfig

__all__ = [
    "PROFILES",
    "FaultSpec",
    "FaultSpecError",
    "Outcome",
    "Profile",
    "SimulatorConfig",
    "create_simulator_app",
    "decide_outcome",
    "parse_faults",
    "run_simulator",
]
