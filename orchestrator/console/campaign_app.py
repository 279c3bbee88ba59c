"""``orchestrator campaign``: campaigns seen and steered through the HTTP API."""

from __future__ import annotations

import typer

campaign_app = typer.Typer(
    help="Campaigns, through the API (ORCH_API_URL, ORCH_API_KEY).", no_args_is_help=True
)

# Each command module registers itself on ``campaign_app``.
from orchestrator.console import campaign_create  # noqa: E402, F401
