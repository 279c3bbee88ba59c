"""Reading the API's error answers."""

from __future__ import annotations

from typing import Any

from httpx import Response


def error_messages(response: Response, status_code: int) -> Any:
    """The ``message`` of an error answer, after checking it is in Vapi's NestJS shape."""
    assert response.status_code == status_code, response.text
    body = response.json()
    assert set(body) == {"statusCode", "error", "message"}
    assert body["statusCode"] == status_code
    phrases = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}
    assert body["error"] == phrases[status_code]
    return body["message"]
