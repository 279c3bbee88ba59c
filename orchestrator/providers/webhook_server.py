"""What a create tells the provider about our webhook: how to authenticate when it posts.

The webhook endpoint checks what ``ORCH_WEBHOOK_AUTH_MODE`` says (``webhooks.auth``); every
call we create carries the matching ``server`` fields, so its webhooks pass that check.
"""

from __future__ import annotations

from typing import Any

from orchestrator.config import Settings

# Where the provider posts its messages to us (``webhooks.endpoints`` serves it).
WEBHOOK_PATH = "/webhooks/vapi"


def provider_server_auth(settings: Settings) -> dict[str, Any]:
    """The ``server`` fields (besides ``url``) that make the provider authenticate as we check.

    In HMAC mode no secret travels with the call: the provider signs with a credential it
    holds, named by ``credentialId`` when one is configured.
    """
    fields: dict[str, Any] = {}
    if settings.webhook_auth_mode == "secret":
        fields["headers"] = {settings.webhook_secret_header: settings.webhook_secret}
    elif settings.webhook_auth_mode == "bearer":
        fields["headers"] = {"Authorization": f"Bearer {settings.webhook_secret}"}
    if settings.webhook_credential_id:
        fields["credentialId"] = settings.webhook_credential_id
    return fields


def our_webhook_server(settings: Settings) -> dict[str, Any]:
    """Vapi's ``server`` for what we create (a call, a chat, a session): our webhook, with
    the authentication it checks, so every message about it reaches us."""
    return {"url": settings.public_url.rstrip("/") + WEBHOOK_PATH, **provider_server_auth(settings)}
