"""``orchestrator up``: the whole stack for development, as supervised child processes.

``running_stack`` starts the devstack, migrates, issues a fresh API key for the ``dev`` org and
runs the simulator, the API, Celery workers and beat. Each child leads its own process group:
the ``worker`` and ``beat`` commands run Celery as a grandchild, and signalling the group is
what reaches it. Children share one environment, so the API, the workers and the simulator agree
on URLs and on the per-run webhook secret.
"""

from __future__ import annotations

from orchestrator.runner.logs import FIXED_COLOURS as FIXED_COLOURS
from orchestrator.runner.logs import RUNNER_SOURCE as RUNNER_SOURCE
from orchestrator.runner.logs import WORKER_COLOURS as WORKER_COLOURS
from orchestrator.runner.logs import ConsoleSink, LogSink, prefix_width
from orchestrator.runner.options import LOOPBACK as LOOPBACK
from orchestrator.runner.options import STARTUP_TIMEOUT_SECONDS as STARTUP_TIMEOUT_SECONDS
from orchestrator.runner.options import StackOptions, free_port
from orchestrator.runner.shutdown import Terminated, handle_termination, hurry_requested
from orchestrator.runner.stack import DEV_ORG_LOCK_KEY as DEV_ORG_LOCK_KEY
from orchestrator.runner.stack import (
    DEV_ORG_NAME,
    StackInfo,
    child_environment,
    ensure_dev_org,
    run_up,
    running_stack,
)
from orchestrator.runner.stack import WORKER_READY as WORKER_READY
from orchestrator.runner.supervisor import KILL_WAIT_SECONDS as KILL_WAIT_SECONDS
from orchestrator.runner.supervisor import ROUTINE_LINE as ROUTINE_LINE
from orchestrator.runner.supervisor import STOP_GRACE_SECONDS as STOP_GRACE_SECONDS
from orchestrator.runner.supervisor import TAIL_LINES as TAIL_LINES
from orchestrator.runner.supervisor import StackError

__all__ = [
    "DEV_ORG_NAME",
    "ConsoleSink",
    "LogSink",
    "StackError",
    "StackInfo",
    "StackOptions",
    "Terminated",
    "child_environment",
    "ensure_dev_org",
    "free_port",
    "handle_termination",
    "hurry_requested",
    "prefix_width",
    "run_up",
    "running_stack",
]
