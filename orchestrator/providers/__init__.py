"""Clients for the telephony/voice-AI providers that place the calls."""

from orchestrator.providers.errors import (
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderServerError,
    ProviderTimeout,
    ProviderUnreachable,
)
from orchestrator.providers.vapi import (
    CreateCallRequest,
    ProviderCall,
    VapiClient,
    format_timestamp,
    parse_retry_after,
)

__all__ = [
    "CreateCallRequest",
    "ProviderCall",
    "ProviderError",
    "ProviderRateLimited",
    "ProviderRejected",
    "ProviderServerError",
    "ProviderTimeout",
    "ProviderUnreachable",
    "VapiClient",
    "format_timestamp",
    "parse_retry_after",
]
