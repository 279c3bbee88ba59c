"""Vapi's ``Server`` and ``BackoffPlan``, the campaign's ``serverMessages`` and ``predialPlan``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from orchestrator.config import get_settings
from orchestrator.user_servers.urls import server_url_problems
from orchestrator.wire import CAMEL_MODEL_CONFIG, Text

URL_MAX_LENGTH = 2000
# Vapi's default wait for a server's answer.
DEFAULT_TIMEOUT_SECONDS = 20.0

# Vapi's campaign events, as ``serverMessages`` names them.
CampaignEventType = Literal[
    "campaign.started",
    "campaign.cancelled",
    "campaign.ended",
    "campaign.archived",
    "campaign.unarchived",
    "contact.dispatched",
    "contact.completed",
    "contact.failed",
    "contact.skipped",
    "contact.predial-failed",
    "campaign.job.continued",
    # Ours, sent only when named here.
    "contact.sms-sent",
    "contact.sms-replied",
]


class BackoffPlanIn(BaseModel):
    """Vapi's ``BackoffPlan``: how often a failed request is sent again, and how far apart."""

    model_config = CAMEL_MODEL_CONFIG

    type: Literal["fixed", "exponential"] = "fixed"
    max_retries: int = Field(alias="maxRetries", ge=0, le=10)
    base_delay_seconds: float = Field(alias="baseDelaySeconds", ge=0, le=10)
    excluded_status_codes: list[int] | None = Field(None, alias="excludedStatusCodes")


class ServerIn(BaseModel):
    """Vapi's ``Server``. ``credentialId`` and the fields that go with it are kept, not used."""

    model_config = CAMEL_MODEL_CONFIG

    url: Text | None = Field(None, max_length=URL_MAX_LENGTH)
    timeout_seconds: float | None = Field(None, alias="timeoutSeconds", ge=1, le=300)
    headers: dict[Text, Text] | None = None
    backoff_plan: BackoffPlanIn | None = Field(None, alias="backoffPlan")
    credential_id: Text | None = Field(None, alias="credentialId", max_length=200)
    static_ip_addresses_enabled: bool | None = Field(None, alias="staticIpAddressesEnabled")
    encrypted_paths: list[Text] | None = Field(None, alias="encryptedPaths")

    @field_validator("url")
    @classmethod
    def _reachable_and_public(cls, url: str | None) -> str | None:
        if url is None:
            return None
        allow_private = get_settings().allow_private_server_urls
        problems = server_url_problems(url, allow_private=allow_private)
        if problems:
            raise PydanticCustomError("server_url", "; ".join(problems))
        return url


class PredialPlanIn(BaseModel):
    """Vapi's ``CampaignPredialPlan``, and what to do when the check itself fails."""

    model_config = CAMEL_MODEL_CONFIG

    # Vapi: on when the plan is given; false keeps the plan without running the check.
    enabled: bool = True
    # Extension. "fail" (Vapi): the contact is predial-failed; "dial": dial as if eligible;
    # "retry": ask again later, within the window, a bounded number of times, then fail.
    on_error: Literal["fail", "dial", "retry"] = Field("fail", alias="onError")
    # Extension. With "retry": how many times a failed check is asked again before the
    # contact is predial-failed.
    on_error_max_retries: int = Field(3, alias="onErrorMaxRetries", ge=0, le=10)
