"""Domain errors carry their HTTP status; one handler renders them in Vapi's NestJS error shape."""

from __future__ import annotations

from http import HTTPStatus


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


class PayloadTooLarge(DomainError):
    status_code = 413


def error_body(status_code: int, messages: list[str] | str) -> dict[str, object]:
    """Vapi's shape ``{"statusCode", "error", "message"}``; validation errors list messages."""
    phrase = HTTPStatus(status_code).phrase
    message: list[str] | str = messages
    if isinstance(messages, list) and len(messages) == 1 and status_code != 400:
        message = messages[0]
    return {"statusCode": status_code, "error": phrase, "message": message}


# ``error_body``'s shape, as the OpenAPI document names and describes it.
VAPI_ERROR_NAME = "VapiError"
VAPI_ERROR_SCHEMA: dict[str, object] = {
    "type": "object",
    "required": ["statusCode", "error", "message"],
    "properties": {
        "statusCode": {"type": "integer"},
        "error": {"type": "string"},
        "message": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]},
    },
}
