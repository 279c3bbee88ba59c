"""Settings, read from the environment with the ``ORCH_`` prefix."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVSTACK_PG_PORT = 55432
DEVSTACK_REDIS_PORT = 56379


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORCH_", extra="ignore")

    database_url: str = (
        f"postgresql+psycopg://orchestrator@127.0.0.1:{DEVSTACK_PG_PORT}/orchestrator"
    )
    redis_url: str = f"redis://127.0.0.1:{DEVSTACK_REDIS_PORT}/0"
    provider_base_url: str = "http://127.0.0.1:8200"
    provider_api_key: str = Field(default="simulator-key", repr=False)
    provider_timeout_seconds: float = 10.0
    public_url: str = "http://127.0.0.1:8000"
    webhook_secret: str = Field(default="dev-webhook-secret", repr=False)
    webhook_secret_header: str = "X-Vapi-Secret"  # noqa: S105 - a header name, not a secret
    default_org_concurrency_limit: int = 10
    # Pacing of a caller number nobody configured: Twilio's default of one call per second.
    default_calls_per_second: float = 1.0
    # Calls of one number claimed ahead of its rate, in seconds of that rate: enough to keep
    # the number busy from one tick to the next without a long queue of waiting tasks.
    pacing_lookahead_seconds: float = 2.0
    # Slots are handed out this fraction slower than the configured rate, so that calls come
    # to the rate gate just after the spacing it requires rather than just before it (the gate
    # alone guarantees the limit at the provider).
    pacing_safety_margin: float = 0.02
    max_customers_per_request: int = 10_000
    tick_interval_seconds: float = 1.0
    dispatch_batch_limit: int = 500
    log_level: str = "INFO"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
