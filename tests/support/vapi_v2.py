"""Vapi's v2 campaign endpoints as a customer reaches them with the installed Python SDK.

The SDK has no v2 campaign methods nor models, so requests go through its own HTTP client
(its base URL, its API key, its retries), and answers are checked strictly: ``Campaign``
against the SDK's model, the v2 shapes against the models below, written from Vapi's
document (``CampaignSummary``, ``CampaignContactWithOutcome`` and their pages). Fields beyond
Vapi's (our extensions) are allowed; every field Vapi requires must be there, typed as it says.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from vapi import Vapi
from vapi.types import Campaign

from tests.support.sdk import strictly

V2_CONFIG = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow", strict=False)


class CampaignContactCounters(BaseModel):
    model_config = V2_CONFIG

    pending: float
    dispatched: float
    completed: float
    failed: float
    skipped: float
    predial_failed: float


class CampaignCallMetrics(BaseModel):
    model_config = V2_CONFIG

    dialed: float
    connected: float


class PaginationMeta(BaseModel):
    model_config = V2_CONFIG

    items_per_page: float
    total_items: float
    current_page: float
    total_pages: float | None = None
    has_next_page: bool | None = None
    sort_order: Literal["ASC", "DESC"] | None = None


class CampaignSummary(BaseModel):
    model_config = V2_CONFIG

    status: Literal["scheduled", "in-progress", "ended", "cancelled", "archived"]
    ended_reason: (
        Literal[
            "campaign.scheduled.ended-by-user",
            "campaign.in-progress.ended-by-user",
            "campaign.ended.success",
        ]
        | None
    ) = None
    name: str
    assistant_id: str | None = None
    squad_id: str | None = None
    phone_number_id: str | None = None
    schedule_plan: dict[str, Any] | None = None
    max_concurrency: float | None = None
    assistant_overrides: dict[str, Any] | None = None
    squad_overrides: dict[str, Any] | None = None
    server: dict[str, Any] | None = None
    server_messages: list[str] | None = None
    predial_plan: dict[str, Any] | None = None
    contact_counters: CampaignContactCounters | None = None
    call_metrics: CampaignCallMetrics | None = None
    id: str
    org_id: str
    created_at: datetime
    updated_at: datetime


class CampaignSummaryPaginatedResponse(BaseModel):
    model_config = V2_CONFIG

    results: list[CampaignSummary]
    metadata: PaginationMeta


ContactStatus = Literal[
    "contact.pending",
    "contact.dispatched",
    "contact.completed",
    "contact.failed",
    "contact.skipped",
    "contact.predial-failed",
]


class CampaignContactWithOutcome(BaseModel):
    model_config = V2_CONFIG

    id: str
    number: str
    name: str | None = None
    status: ContactStatus
    call_id: str | None = None
    dispatched_at: datetime | None = None
    ended_reason: str | None = None


class CampaignContactPaginatedResponse(BaseModel):
    model_config = V2_CONFIG

    results: list[CampaignContactWithOutcome]
    metadata: PaginationMeta


class V2Campaigns:
    """``/v2/campaign`` through the SDK's HTTP client; every answer checked, raw JSON kept."""

    def __init__(self, vapi: Vapi) -> None:
        self._http = vapi._client_wrapper.httpx_client
        self.last: httpx.Response | None = None

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        self.last = self._http.request(path, method=method, json=json, params=params, retries=0)
        return self.last

    def _ok(self, response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    def create(self, body: dict[str, Any]) -> Campaign:
        return strictly(Campaign, self._ok(self.send("POST", "v2/campaign", json=body), 201))

    def list(self, **params: Any) -> CampaignSummaryPaginatedResponse:
        raw = self._ok(self.send("GET", "v2/campaign", params=params))
        return CampaignSummaryPaginatedResponse.model_validate(raw)

    def get(self, campaign_id: str, **params: Any) -> CampaignSummary:
        raw = self._ok(self.send("GET", f"v2/campaign/{campaign_id}", params=params))
        return CampaignSummary.model_validate(raw)

    def update(self, campaign_id: str, body: dict[str, Any]) -> Campaign:
        raw = self._ok(self.send("PATCH", f"v2/campaign/{campaign_id}", json=body))
        return strictly(Campaign, raw)

    def delete(self, campaign_id: str) -> Campaign:
        return strictly(Campaign, self._ok(self.send("DELETE", f"v2/campaign/{campaign_id}")))

    def contacts(self, campaign_id: str, **params: Any) -> CampaignContactPaginatedResponse:
        raw = self._ok(self.send("GET", f"v2/campaign/{campaign_id}/contacts", params=params))
        return CampaignContactPaginatedResponse.model_validate(raw)

    def refused(
        self,
        method: str,
        path: str,
        *,
        status: int = 400,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """The ``message`` of an answer that must be an error of ``status`` in Vapi's shape."""
        response = self.send(method, path, json=json, params=params)
        assert response.status_code == status, response.text
        body = response.json()
        assert set(body) == {"statusCode", "error", "message"}, body
        assert body["statusCode"] == status
        return body["message"]
