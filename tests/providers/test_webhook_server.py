"""What every create tells the provider, so that its webhooks pass our check in each mode."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from orchestrator.calls.dialing import begin_dial
from orchestrator.clock import utcnow
from orchestrator.config import Settings, get_settings
from orchestrator.models import Call
from orchestrator.providers.webhook_server import provider_server_auth
from tests.factories import dispatch_campaign, make_campaign, make_org

KEY = "k3y-for-tests"


def settings(**fields: Any) -> Settings:
    return Settings(webhook_secret=KEY, **fields)


def hmac_settings(**fields: Any) -> Settings:
    return settings(webhook_auth_mode="hmac", **fields)


def test_provider_server_auth_per_mode() -> None:
    assert provider_server_auth(settings()) == {"headers": {"X-Vapi-Secret": KEY}}
    assert provider_server_auth(settings(webhook_secret_header="X-Hook-Token")) == {
        "headers": {"X-Hook-Token": KEY}
    }
    assert provider_server_auth(settings(webhook_auth_mode="bearer")) == {
        "headers": {"Authorization": f"Bearer {KEY}"}
    }
    assert provider_server_auth(hmac_settings()) == {}, "no secret travels in HMAC mode"
    assert provider_server_auth(hmac_settings(webhook_credential_id="cred-1")) == {
        "credentialId": "cred-1"
    }


def _claimed_call(session: Session) -> Call:
    org = make_org(session)
    campaign_id = make_campaign(session, org=org, customers=1)
    (call_id,) = dispatch_campaign(session, campaign_id=campaign_id, now=utcnow(), batch_limit=1)
    call = session.get(Call, call_id)
    assert call is not None
    return call


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("secret", {"headers": {"X-Vapi-Secret": KEY}}),
        ("bearer", {"headers": {"Authorization": f"Bearer {KEY}"}}),
        ("hmac", {"credentialId": "cred-hmac"}),
    ],
)
def test_create_call_request_tells_the_provider_how_to_authenticate(
    session: Session, mode: str, expected: dict[str, Any]
) -> None:
    config = get_settings().model_copy(
        update={
            "webhook_auth_mode": mode,
            "webhook_secret": KEY,
            "webhook_secret_header": "X-Vapi-Secret",
            "webhook_credential_id": "cred-hmac" if mode == "hmac" else None,
        }
    )
    call = _claimed_call(session)
    request = begin_dial(session, call_id=call.id, settings=config)
    assert request is not None
    server = request.model_dump(by_alias=True, exclude_none=True)["assistantOverrides"]["server"]
    assert server == {"url": config.public_url.rstrip("/") + "/webhooks/vapi", **expected}
