"""Production refuses the settings anyone can read in this code.

The webhook secret proves a webhook comes from the provider: with the well-known default,
anyone could end calls or fake outcomes. The simulator's key means calls go nowhere real (or,
worse, to a provider that accepts any key). Outside ``ORCH_ENV=development`` the API and the
workers stop at start and name the setting to change.
"""

from __future__ import annotations

from orchestrator.config import (
    DEVELOPMENT,
    DEVELOPMENT_WEBHOOK_SECRET,
    SIMULATOR_API_KEY,
    Settings,
)

# Secrets shorter than this are guessable; Vapi's own server secrets are longer.
MIN_SECRET_LENGTH = 16


class UnsafeSettings(RuntimeError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            "refusing to start with development settings outside ORCH_ENV=development:\n"
            f"{lines}\n(set ORCH_ENV=development only on a machine of your own)"
        )


def unsafe_settings(settings: Settings) -> list[str]:
    """What must change before these settings may run in production (none in development)."""
    if settings.env == DEVELOPMENT:
        return []
    problems = []
    secret = settings.webhook_secret
    if secret == DEVELOPMENT_WEBHOOK_SECRET:
        problems.append(
            "ORCH_WEBHOOK_SECRET is the development default: set the secret your provider "
            "sends with its webhooks (the server secret or credential configured at Vapi)"
        )
    elif len(secret) < MIN_SECRET_LENGTH:
        problems.append(
            f"ORCH_WEBHOOK_SECRET is shorter than {MIN_SECRET_LENGTH} characters: use a long "
            "random secret"
        )
    if settings.provider_api_key == SIMULATOR_API_KEY:
        problems.append(
            "ORCH_PROVIDER_API_KEY is the simulator's key: set your provider's private API key"
        )
    return problems


def refuse_unsafe_settings(settings: Settings) -> None:
    problems = unsafe_settings(settings)
    if problems:
        raise UnsafeSettings(problems)
