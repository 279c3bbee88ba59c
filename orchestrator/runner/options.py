"""What ``up`` starts (``StackOptions``) and finding free loopback ports."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field, replace

from orchestrator.simulator.faults import FaultSpecError, parse_faults
from orchestrator.simulator.outcomes import PROFILES
from orchestrator.simulator.phone_numbers import PhoneNumberSpecError, parse_phone_numbers

LOOPBACK = "127.0.0.1"


STARTUP_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class StackOptions:
    """What ``up`` starts. A port of 0 means any free port on loopback.

    ``faults`` is the simulator's ``--faults`` spec (empty: none); ``webhook_hmac_secret``, when
    set, makes the simulator sign its webhooks.
    """

    api_port: int = 8000
    simulator_port: int = 8200
    workers: int = 1
    concurrency: int = 8
    # Threads of the worker that waits on users' servers (pre-dial checks, events out).
    # Threads are cheap for work that only waits: a dead receiver holds at most
    # ORCH_PREDIAL_MAX_CHECKS_PER_CAMPAIGN of them (checks) or 8 (events), leaving the rest.
    outbound_concurrency: int = 64
    profile: str = "fast"
    seed: int = 0
    simulator_concurrency_limit: int = 50
    org_concurrency_limit: int = 50
    startup_timeout: float = STARTUP_TIMEOUT_SECONDS
    faults: str = ""
    webhook_hmac_secret: str = field(default="", repr=False)
    # Where the simulator keeps its calls ("": the devstack's ``simulator`` directory) and
    # whether it starts empty instead of knowing the calls of earlier runs.
    simulator_state_dir: str = ""
    fresh_simulator: bool = False
    # The simulator's ``--phone-numbers``: numbers it lists from the start ("": none).
    simulator_phone_numbers: str = ""
    # When another simulator holds the state directory: run on a temporary one of its own
    # (the demo) rather than refuse to start (``up``).
    private_state_if_busy: bool = False

    def errors(self) -> list[str]:
        problems = [
            f"{name} must be between 0 and 65535"
            for name, port in (
                ("--api-port", self.api_port),
                ("--simulator-port", self.simulator_port),
            )
            if not 0 <= port <= 65535
        ]
        if self.api_port and self.api_port == self.simulator_port:
            problems.append("--api-port and --simulator-port must differ")
        for name, value in (
            ("--workers", self.workers),
            ("--concurrency", self.concurrency),
            ("--outbound-concurrency", self.outbound_concurrency),
            ("--org-concurrency-limit", self.org_concurrency_limit),
        ):
            if value < 1:
                problems.append(f"{name} must be at least 1")
        if self.simulator_concurrency_limit < 0:
            problems.append("--simulator-concurrency-limit must not be negative")
        if self.profile not in PROFILES:
            problems.append(f"--profile must be one of {', '.join(PROFILES)}")
        try:
            parse_faults(self.faults)
        except FaultSpecError as exc:
            problems.append(f"--faults: {exc}")
        try:
            parse_phone_numbers([self.simulator_phone_numbers])
        except PhoneNumberSpecError as exc:
            problems.append(f"--simulator-phone-numbers: {exc}")
        return problems

    def with_ports(self) -> StackOptions:
        """These options with every 0 port replaced by a free one."""
        api = self.api_port or free_port(avoid=self.simulator_port)
        simulator = self.simulator_port or free_port(avoid=api)
        return replace(self, api_port=api, simulator_port=simulator)

    @property
    def api_url(self) -> str:
        return f"http://{LOOPBACK}:{self.api_port}"

    @property
    def simulator_url(self) -> str:
        return f"http://{LOOPBACK}:{self.simulator_port}"


def free_port(*, avoid: int = 0) -> int:
    """A port nothing listens on right now (another process may still take it before us)."""
    while True:
        with socket.socket() as sock:
            sock.bind((LOOPBACK, 0))
            port = int(sock.getsockname()[1])
        if port != avoid:
            return port


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        # Same flag as uvicorn, so a port with only TIME_WAIT leftovers counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return True
    return False
