"""A Vapi-compatible fake call provider over real HTTP, for tests and load runs.

``create_simulator_app(SimulatorConfig(...))`` builds the FastAPI app; ``run_simulator(port=...)``
serves it. Call outcomes come from the deterministic ``decide_outcome`` documented in
``orchestrator.simulator.outcomes``; injected faults (``--faults``) are documented in
``orchestrator.simulator.faults``, webhook signing in ``orchestrator.simulator.webhooks``, and
the state kept on disk across restarts (``--state-dir``) in ``orchestrator.simulator.journal``.
"""

from orchestrator.simulator.app import create_simulator_app
from orchestrator.simulator.faults import FaultSpec, FaultSpecError, parse_faults
from orchestrator.simulator.journal import SimulatorStateLocked, state_dir_in_use
from orchestrator.simulator.outcomes import PROFILES, Outcome, Profile, decide_outcome
from orchestrator.simulator.phone_numbers import PhoneNumberSpecError, parse_phone_numbers
from orchestrator.simulator.server import run_simulator
from orchestrator.simulator.state import SimulatorConfig

__all__ = [
    "PROFILES",
    "FaultSpec",
    "FaultSpecError",
    "Outcome",
    "PhoneNumberSpecError",
    "Profile",
    "SimulatorConfig",
    "SimulatorStateLocked",
    "create_simulator_app",
    "decide_outcome",
    "parse_faults",
    "parse_phone_numbers",
    "run_simulator",
    "state_dir_in_use",
]
