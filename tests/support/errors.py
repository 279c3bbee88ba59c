"""Reading the API's error answers."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from httpx import Response


def error_messages(response: Response, status_code: int) -> Any:
    """The ``message`` of an error answer, after checking it is in Vapi's NestJS shape."""
    assert response.status_code == status_code, response.text
    body = response.json()
    assert set(body) == {"statusCode", "error", "message"}
    assert body["statusCode"] == status_code
    assert body["error"] == HTTPStatus(status_code).phrase
    return body["message"]
