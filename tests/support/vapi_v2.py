"""``/v2/campaign`` as a customer reaches it with Vapi's Python SDK.

``create``, ``list``, ``get``, ``update``, ``delete`` and ``contacts`` are the SDK's own v2
methods, with their signatures; each answer is checked as ``tests.support.sdk.checked`` does
(strictly valid as the model the SDK parsed it into, nothing undeclared but our extensions), and
its raw JSON kept in ``raw``. Our extensions are sent as a customer would with the SDK, through
``request_options`` (``ours``). ``send`` and ``refused`` go through the SDK's own HTTP client
(its base URL, its API key) for what its methods cannot send: bad input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec

import httpx
import pytest
from vapi import Vapi
from vapi.campaigns.client import CampaignsClient
from vapi.core.api_error import ApiError
from vapi.core.request_options import RequestOptions

from tests.support.sdk import SdkModel, checked

P = ParamSpec("P")


def ours(**fields: Any) -> RequestOptions:
    """Request options that add our extensions (``callingHours``, ``retryPlan``) to a body."""
    return {"additional_body_parameters": fields}


def _message(body: Any, *, status: int) -> Any:
    assert isinstance(body, dict), body
    assert set(body) == {"statusCode", "error", "message"}, body
    assert body["statusCode"] == status
    return body["message"]


def refusal(call: Callable[[], object], *, status: int = 400) -> Any:
    """The ``message`` of the error in Vapi's shape that an SDK call must raise."""
    with pytest.raises(ApiError) as raised:
        call()
    assert raised.value.status_code == status, raised.value.body
    return _message(raised.value.body, status=status)


class V2Campaigns:
    def __init__(self, vapi: Vapi, answers: list[httpx.Response]) -> None:
        self._http = vapi._client_wrapper.httpx_client
        self._answers = answers
        # Typed here: the SDK leaves its clients' properties unannotated.
        campaigns: CampaignsClient = vapi.campaigns
        self.create = self.checking(campaigns.campaign_controller_create_v_2)
        self.list = self.checking(campaigns.campaign_controller_find_all_v_2)
        self.get = self.checking(campaigns.campaign_controller_find_one_v_2)
        self.update = self.checking(campaigns.campaign_controller_update_v_2)
        self.delete = self.checking(campaigns.campaign_controller_remove_v_2)
        self.contacts = self.checking(campaigns.campaign_controller_get_campaign_v_2_contacts)

    @property
    def raw(self) -> Any:
        """The JSON of the last answer."""
        return self._answers[-1].json()

    def checking(self, method: Callable[P, SdkModel]) -> Callable[P, SdkModel]:
        """``method`` of the SDK, its every answer checked."""

        def call(*args: P.args, **kwargs: P.kwargs) -> SdkModel:
            return checked(method(*args, **kwargs), self.raw)

        return call

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        return self._http.request(path, method=method, json=json, params=params, retries=0)

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
        return _message(response.json(), status=status)
