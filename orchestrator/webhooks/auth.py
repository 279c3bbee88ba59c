"""Authenticating provider webhooks in each of Vapi's modes (the provider is told how by
``providers.webhook_server``).

- ``secret``: the shared secret in a header (Vapi's legacy ``X-Vapi-Secret``, or any name).
- ``bearer``: ``Authorization: Bearer <token>``.
- ``hmac``: a signature over ``{timestamp}.{body}`` (configurable) in ``x-signature`` and a
  timestamp in ``x-timestamp``, refused outside the replay window.

Checks are split in two so the endpoint can refuse what the headers alone condemn before it
reads a body: ``check_headers`` first, then ``check_body`` with the raw bytes received (the
signature covers exactly those bytes, never a re-serialisation of the parsed JSON).
Every comparison is constant-time, and no message or log line ever carries a credential.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import re
import string

from starlette.datastructures import Headers

from orchestrator.clock import utcnow
from orchestrator.config import Settings
from orchestrator.exceptions import Unauthorized

logger = logging.getLogger(__name__)

# Rejection reasons, as counted in ``orchestrator_webhooks_rejected``.
UNAUTHORIZED = "unauthorized"
BAD_SIGNATURE = "bad-signature"
BAD_TIMESTAMP = "bad-timestamp"
STALE_TIMESTAMP = "stale-timestamp"

# A timestamp above this is in milliseconds: as seconds it would be after the year 5000, as
# milliseconds it is after 1973. Vapi does not say which unit it sends, so both are accepted.
MILLISECONDS_ABOVE = 100_000_000_000
TIMESTAMP_PATTERN = re.compile(r"\d{1,16}(\.\d{1,9})?")
PAYLOAD_FIELDS = frozenset({"timestamp", "body", "method"})


class WebhookRejected(Unauthorized):
    """A 401 that also says why, for the rejection metric (the reason is never a secret)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def _key(settings: Settings) -> bytes:
    """An empty secret would accept an empty credential: refuse everything instead."""
    if not settings.webhook_secret:
        logger.error("ORCH_WEBHOOK_SECRET is empty: every webhook is refused")
        raise WebhookRejected("Webhook authentication is not configured", reason=UNAUTHORIZED)
    return settings.webhook_secret.encode()


def _same(presented: str, expected: bytes) -> bool:
    return hmac.compare_digest(presented.encode(), expected)


def _check_shared_secret(headers: Headers, settings: Settings) -> None:
    presented = headers.get(settings.webhook_secret_header)
    if presented is None or not _same(presented, _key(settings)):
        raise WebhookRejected("Invalid webhook secret", reason=UNAUTHORIZED)


def _check_bearer(headers: Headers, settings: Settings) -> None:
    scheme, _, token = (headers.get("authorization") or "").strip().partition(" ")
    # The scheme is case-insensitive (RFC 9110); the token is compared exactly.
    if scheme.lower() != "bearer" or not _same(token.strip(), _key(settings)):
        raise WebhookRejected("Invalid webhook bearer token", reason=UNAUTHORIZED)


def _signs_timestamp(settings: Settings) -> bool:
    return "timestamp" in _payload_fields(settings.webhook_signature_payload)


def _payload_fields(template: str) -> set[str]:
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    unknown = fields - PAYLOAD_FIELDS
    if unknown:
        # A configuration error, not the caller's: a 500 and a log line say so.
        raise ValueError(f"ORCH_WEBHOOK_SIGNATURE_PAYLOAD has unknown fields {sorted(unknown)}")
    return fields


def parse_timestamp(value: str) -> float:
    """Unix time in seconds, from seconds or milliseconds (told apart by magnitude)."""
    value = value.strip()
    if not TIMESTAMP_PATTERN.fullmatch(value):
        raise WebhookRejected("Invalid webhook timestamp", reason=BAD_TIMESTAMP)
    number = float(value)
    return number / 1000 if number > MILLISECONDS_ABOVE else number


def _check_timestamp(headers: Headers, settings: Settings) -> None:
    presented = headers.get(settings.webhook_timestamp_header)
    if presented is None:
        raise WebhookRejected("Missing webhook timestamp", reason=UNAUTHORIZED)
    skew = abs(utcnow().timestamp() - parse_timestamp(presented))
    if skew > settings.webhook_replay_window_seconds:
        raise WebhookRejected(
            "Webhook timestamp is outside the allowed window", reason=STALE_TIMESTAMP
        )


def check_headers(headers: Headers, *, settings: Settings) -> None:
    """Everything decidable before the body is read; raises ``WebhookRejected``."""
    mode = settings.webhook_auth_mode
    if mode == "secret":
        _check_shared_secret(headers, settings)
    elif mode == "bearer":
        _check_bearer(headers, settings)
    else:
        _key(settings)  # refuses at once when no key is configured
        if headers.get(settings.webhook_signature_header) is None:
            raise WebhookRejected("Missing webhook signature", reason=UNAUTHORIZED)
        if _signs_timestamp(settings):
            _check_timestamp(headers, settings)


def signed_payload(template: str, *, body: bytes, timestamp: str, method: str) -> bytes:
    """The template filled in as bytes, so the body is signed exactly as it was received."""
    _payload_fields(template)
    values = {"body": body, "timestamp": timestamp.encode(), "method": method.encode()}
    parts: list[bytes] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(literal.encode())
        if name is not None:
            parts.append(values[name])
    return b"".join(parts)


def _digest(payload: bytes, settings: Settings) -> bytes:
    return hmac.new(_key(settings), payload, settings.webhook_hmac_algorithm).digest()


def sign(payload: bytes, *, settings: Settings) -> str:
    """The signature a provider configured like ``settings`` sends (without any prefix)."""
    digest = _digest(payload, settings)
    if settings.webhook_signature_encoding == "base64":
        return base64.b64encode(digest).decode()
    return digest.hex()


def _decode_signature(presented: str, settings: Settings) -> bytes | None:
    value = presented.strip()
    for prefix in (settings.webhook_signature_prefix, f"{settings.webhook_hmac_algorithm}="):
        if prefix and value.startswith(prefix):
            value = value[len(prefix) :]
            break
    try:
        if settings.webhook_signature_encoding == "base64":
            return base64.b64decode(value, validate=True)
        return bytes.fromhex(value)
    except (ValueError, binascii.Error):
        return None


def check_body(headers: Headers, body: bytes, *, method: str, settings: Settings) -> None:
    """The HMAC signature over the raw body (other modes were settled by the headers)."""
    if settings.webhook_auth_mode != "hmac":
        return
    payload = signed_payload(
        settings.webhook_signature_payload,
        body=body,
        timestamp=headers.get(settings.webhook_timestamp_header) or "",
        method=method,
    )
    expected = _digest(payload, settings)
    presented = _decode_signature(headers.get(settings.webhook_signature_header) or "", settings)
    if presented is None or not hmac.compare_digest(presented, expected):
        raise WebhookRejected("Invalid webhook signature", reason=BAD_SIGNATURE)
