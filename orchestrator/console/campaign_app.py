"""``orchestrator campaign``: campaigns seen and steered through the HTTP API."""

from __future__ import annotations

import typer

campaign_app = typer.Typer(
    help="Campaigns, through the API (ORCH_API_URL, ORCH_API_KEY).", no_args_is_help=True
)

# Each module registers its commands on ``campaign_app`` when imported.
from orchestrator.console import (  # noqa: E402, F401
    campaign_commands,
    campaign_create,
    campaign_events,
    campaign_watch,
)
