"""Settings, read from the environment with the ``ORCH_`` prefix."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVSTACK_PG_PORT = 55432
DEVSTACK_REDIS_PORT = 56379

DEVELOPMENT = "development"
# Values every copy of the code knows: fine on a laptop, never in production (``safety.py``).
DEVELOPMENT_WEBHOOK_SECRET = "dev-webhook-secret"  # noqa: S105 - the refused default
SIMULATOR_API_KEY = "simulator-key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORCH_", extra="ignore")

    # "development" (set by ``orchestrator up``, the demo and the tests) allows the defaults
    # below that anyone can read in this code; any other value is production, where the API
    # and the workers refuse to start with them.
    env: str = "production"

    database_url: str = (
        f"postgresql+psycopg://orchestrator@127.0.0.1:{DEVSTACK_PG_PORT}/orchestrator"
    )
    # Connections each process keeps open, and how many more it may open for a burst (closed
    # again after). The API runs up to 40 requests' database work at once: a pool smaller
    # than the usual concurrency opens and closes a connection per request.
    database_pool_size: int = Field(default=20, ge=1)
    database_pool_overflow: int = Field(default=20, ge=0)
    redis_url: str = f"redis://127.0.0.1:{DEVSTACK_REDIS_PORT}/0"
    provider_base_url: str = "http://127.0.0.1:8200"
    provider_api_key: str = Field(default=SIMULATOR_API_KEY, repr=False)
    provider_timeout_seconds: float = 10.0
    # How long the provider's answer to a phone-number lookup is kept, per org and query
    # (0: not kept). Numbers change rarely (bought, released or renamed at the provider), while
    # a listing may be polled, and every lookup spends the rate limit of the provider key our
    # dials use: a few seconds bound both how stale a listing is and what polling costs.
    phone_number_cache_seconds: float = Field(default=5.0, ge=0)
    public_url: str = "http://127.0.0.1:8000"
    webhook_secret: str = Field(default=DEVELOPMENT_WEBHOOK_SECRET, repr=False)
    # ``orchestrator flower``'s basic-auth credentials (user:password), when not given as
    # ``--basic-auth``; Flower on a non-loopback address refuses to start without them.
    flower_basic_auth: str = Field(default="", repr=False)
    # When set, ``GET /metrics`` answers only ``Authorization: Bearer <token>`` (Prometheus's
    # ``authorization`` setting): its series name orgs, campaigns and caller numbers, and the
    # API's port also faces the provider's webhooks.
    metrics_token: str = Field(default="", repr=False)
    webhook_secret_header: str = "X-Vapi-Secret"  # noqa: S105 - a header name, not a secret
    # How provider webhooks prove where they come from (Vapi's modes): "secret" checks
    # ``webhook_secret_header``, "bearer" checks ``Authorization: Bearer``, "hmac" checks a
    # signature over the body and a timestamp. ``webhook_secret`` is the secret, token or key.
    webhook_auth_mode: Literal["secret", "bearer", "hmac"] = "secret"
    # "worker": a webhook is answered once stored, and the workers apply it right after, in
    # batches (the highest rate); "inline": answered once stored and applied, by the API.
    webhook_apply_mode: Literal["worker", "inline"] = "worker"
    # How often the beat has stored webhooks applied (beside the API's requests, any of which
    # may be lost with a broker outage).
    webhook_sweep_interval_seconds: float = Field(default=5.0, gt=0)
    # HMAC mode, with Vapi's defaults (its ``HMACAuthenticationPlan``): which headers carry the
    # signature and its timestamp, how the signature is computed and encoded.
    webhook_signature_header: str = "x-signature"
    webhook_timestamp_header: str = "x-timestamp"
    webhook_hmac_algorithm: Literal["sha1", "sha256", "sha512"] = "sha256"
    webhook_signature_encoding: Literal["hex", "base64"] = "hex"
    # Optional prefix before the signature (Vapi's ``signaturePrefix``, e.g. "sha256=").
    webhook_signature_prefix: str = ""
    # What is signed: {timestamp}, {body} (the raw bytes received) and {method} are filled in.
    # Without {timestamp} the timestamp is not signed, so it is not checked either.
    webhook_signature_payload: str = "{timestamp}.{body}"
    # Signed timestamps further than this from our clock (past or future) are replays: refused.
    webhook_replay_window_seconds: int = Field(default=300, gt=0)
    # A credential configured at the provider (Vapi's ``server.credentialId``), sent with every
    # call we create; in HMAC mode it is how the provider knows to sign.
    webhook_credential_id: str | None = None
    default_org_concurrency_limit: int = 10
    # Campaign server URLs (pre-dial checks, events out) inside our own network: loopback,
    # private, link-local. Refused unless allowed: otherwise any API user could make the
    # workers send requests to internal services. ``up`` and the demo allow them.
    allow_private_server_urls: bool = False
    # Pacing of a caller number nobody configured: Twilio's default of one call per second.
    default_calls_per_second: float = 1.0
    # Texts per second of a caller number nobody configured (``messagesPerSecond``).
    default_messages_per_second: float = Field(default=1.0, gt=0)
    # A text being sent is looked up at the provider once its create may no longer be under
    # way; an active session without news this long is polled (``GET /session/{id}``).
    session_silence_seconds: float = Field(default=60.0, gt=0)
    # Calls of one caller number claimed ahead of its rate, in seconds of that rate: enough to
    # keep the caller number busy from one tick to the next without a long queue of waiting tasks.
    pacing_lookahead_seconds: float = 2.0
    # Slots are handed out this fraction slower than the configured rate, so that calls come
    # to the rate gate just after the spacing it requires rather than just before it (the gate
    # alone guarantees the limit at the provider).
    pacing_safety_margin: float = 0.02
    max_customers_per_request: int = 10_000
    # Rows of one CSV body appended to a campaign (POST /campaign/{id}/customers).
    max_import_rows: int = 1_000_000
    # Appends each API process runs at once: each holds a database connection and a worker
    # thread while its body arrives; one more is answered 429 before its body is read.
    max_concurrent_imports: int = 4
    tick_interval_seconds: float = 1.0
    dispatch_batch_limit: int = 500
    # How often the recovery sweep asks the provider about calls whose news was lost.
    recovery_interval_seconds: float = Field(default=10.0, gt=0)
    # A call the provider has, with no message for this long, is looked up with GET /call/{id}.
    # Webhooks come only when a call changes status, so a long talk is silent: while the
    # provider says a call goes on, the wait before asking again doubles, up to the maximum.
    call_silence_seconds: float = Field(default=120.0, gt=0)
    call_silence_max_seconds: float = Field(default=900.0, gt=0)
    # Calls each recovery sweep asks the provider about, of each kind (silent calls, creates
    # whose answer was lost), longest overdue first: many lost calls cost a steady trickle.
    recovery_lookups_per_sweep: int = Field(default=50, ge=1)
    # A lookup that failed (timeout, 5xx, 429...) is tried again after this, doubling with each
    # failure in a row, up to the maximum.
    recovery_retry_base_seconds: float = Field(default=30.0, gt=0)
    recovery_retry_max_seconds: float = Field(default=900.0, gt=0)
    # A call the provider answered 404 for ends (provider-call-not-found) when it answers 404
    # again at least this much later: one 404 may be a provider's passing inconsistency.
    provider_not_found_confirm_seconds: float = Field(default=60.0, ge=60)
    # The longest a call can last at the provider, from dial to end: ringing plus the
    # assistant's maxDurationSeconds (Vapi's default 600). A call in flight for longer is stuck.
    max_call_seconds: float = Field(default=660.0, gt=0)
    # Campaign events to the campaign's server: a failed delivery is tried again after a
    # random delay of up to base * 2^(attempt - 1) seconds (full jitter), at most the cap,
    # for this long after the event; then it is kept as failed (and redeliverable).
    events_retry_base_seconds: float = Field(default=5.0, gt=0)
    events_retry_max_delay_seconds: float = Field(default=3600.0, gt=0)
    events_retry_max_age_seconds: float = Field(default=86400.0, gt=0)
    # Events out for delivery to one receiver URL at once, across all campaigns and workers;
    # with the batch below, at most 160 / 20 = 8 connections (and outbound threads) at a time.
    # A batch pays one claim and one write for its events: larger ones deliver faster.
    events_max_in_flight_per_receiver: int = Field(default=160, ge=1)
    # Events one delivery task sends, one after another, in sequence order.
    events_delivery_batch: int = Field(default=20, ge=1)
    # Events numbered or claimed per pass of the dispatcher (it loops while work remains).
    events_dispatch_limit: int = Field(default=1000, ge=1)
    events_dispatch_interval_seconds: float = Field(default=1.0, gt=0)
    # Delivered events are kept this long (to list them), then deleted by the dispatcher;
    # failed and pending ones stay until delivered.
    events_keep_delivered_seconds: float = Field(default=7 * 86400.0, gt=0)
    # Pre-dial checks of one campaign waiting on its server at once, beside its maxConcurrency:
    # each holds a thread of the outbound worker while it waits, so a dead or slow server
    # holds at most this many, and other campaigns' checks and events keep the rest.
    predial_max_checks_per_campaign: int = Field(default=16, ge=1)
    log_level: str = "INFO"
    # A line per stored webhook (the API's access log) and per task (Celery): off by default,
    # since at full speed they cost more than the work they report (orchestrator.log_volume).
    log_each_request: bool = False
    # How often the ``campaigns.reconcile`` task recounts active and recently ended campaigns.
    reconcile_interval_seconds: float = Field(default=60.0, gt=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
