"""A Vapi-compatible fake call provider over real HTTP, for tests and load runs.

``create_simulator_app(SimulatorConfig(...))`` builds the FastAPI app; ``run_simulator(port=...)``
serves it. Call outcomes come from the deterministic ``decide_outcome`` documented in
``orchestrator.simulator.outcomes``.
"""

from orchestrator.simulator.app import create_simulator_app
from orchestrator.simulator.outcomes import PROFILES, Outcome, Profile, decide_outcome
from orchestrator.simulator.server import run_simulator
from orchestrator.simulator.state import SimulatorConfig

__all__ = [
    "PROFILES",
    "Outcome",
    "Profile",
    "SimulatorConfig",
    "create_simulator_app",
    "decide_outcome",
    "run_simulator",
]
