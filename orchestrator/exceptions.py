"""Domain errors carry their HTTP status; one handler renders them in Vapi's NestJS error shape,
which the OpenAPI document describes once (:class:`VapiError`) for every status it lists."""

from __future__ import annotations

import uuid
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, Field


class DomainError(Exception):
    status_code: int = 400

    def __init__(self, message: str | list[str], *, status_code: int | None = None) -> None:
        self.messages = [message] if isinstance(message, str) else list(message)
        if status_code is not None:
            self.status_code = status_code
        super().__init__("; ".join(self.messages))

    def to_body(self) -> dict[str, object]:
        return error_body(self.status_code, self.messages)


class ValidationFailed(DomainError):
    status_code = 400


class Unauthorized(DomainError):
    status_code = 401


class NotFound(DomainError):
    status_code = 404


def id_or_not_found(value: str, *, message: str) -> uuid.UUID:
    """The id in a path; one that is not a UUID names nothing, so it is a 404 too."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(message) from None


class Conflict(DomainError):
    status_code = 409


class PayloadTooLarge(DomainError):
    status_code = 413


class TooManyRequests(DomainError):
    status_code = 429


class BadGateway(DomainError):
    """The provider answered, but not with something we can pass on."""

    status_code = 502


class ServiceUnavailable(DomainError):
    """The provider did not answer (unreachable, too slow, or rate limiting us)."""

    status_code = 503


def error_body(status_code: int, messages: list[str] | str) -> dict[str, object]:
    """Vapi's shape ``{"statusCode", "error", "message"}``; validation errors list messages."""
    phrase = HTTPStatus(status_code).phrase
    message: list[str] | str = messages
    if isinstance(messages, list) and len(messages) == 1 and status_code != 400:
        message = messages[0]
    return {"statusCode": status_code, "error": phrase, "message": message}


class VapiError(BaseModel):
    """``error_body``'s shape: the status, its phrase, and what was wrong (a 400 lists it all)."""

    status_code: int = Field(alias="statusCode")
    error: str
    message: list[str] | str


VAPI_ERROR_NAME = VapiError.__name__

# When each status is answered, as the document tells it.
_ERROR_MEANINGS = {
    400: "The request is invalid: `message` lists every problem found in it.",
    401: "No API key, or not a valid one (`Authorization: Bearer <key>`).",
    404: "No such resource in the caller's org.",
    409: "The resource is busy or changed meanwhile: `message` says why; nothing was done.",
    413: "The request carries more than one request may: `message` says the limit.",
    429: "Too many such requests are under way: try again shortly.",
    502: "The provider answered with an error or with something that could not be read.",
    503: "The provider could not be reached, did not answer in time, or is rate limiting us: "
    "try again shortly.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses``: each error status it can answer, in Vapi's error shape."""
    return {
        status: {"model": VapiError, "description": _ERROR_MEANINGS[status]} for status in statuses
    }


def json_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``error_responses`` of a route whose own answer is not JSON (CSV, Prometheus text): a
    model would be documented under the route's media type, which errors are not written in."""
    schema = {"$ref": f"#/components/schemas/{VAPI_ERROR_NAME}"}
    return {
        status: {
            "description": response["description"],
            "content": {"application/json": {"schema": schema}},
        }
        for status, response in error_responses(*statuses).items()
    }
