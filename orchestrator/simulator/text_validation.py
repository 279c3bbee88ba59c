"""What the simulator accepts on ``POST /chat``, ``POST /session`` and ``PATCH /session/{id}``.

A subset of Vapi's CreateChatDTO, CreateSessionDTO and UpdateSessionDTO rules; each check
returns every problem it finds, for a 400 in Vapi's NestJS shape.
"""

from __future__ import annotations

import math
import re
from typing import Any

from orchestrator.simulator.validation import overrides_errors

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
SMS_TRANSPORT = "twilio.sms"
SESSION_STATUSES = ("active", "completed")
MIN_EXPIRATION_SECONDS = 60
MAX_EXPIRATION_SECONDS = 2_592_000
MAX_SESSION_NAME = 40


def _messages_errors(field: str, messages: Any) -> list[str]:
    if not isinstance(messages, list):
        return [f"{field} must be an array of messages"]
    for message in messages:
        if not (isinstance(message, dict) and isinstance(message.get("role"), str)):
            return [f"each message in {field} must be an object with a string role"]
    return []


def _optional_string(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        return [f"{key} must be a string"]
    return []


def _customer_errors(customer: Any, field: str) -> list[str]:
    if not isinstance(customer, dict):
        return [f"{field} must be an object"]
    number = customer.get("number")
    if not isinstance(number, str) or not E164.match(number):
        return [f"{field}.number must be a phone number in E.164 format, like +14155550123"]
    return []


def _transport_errors(transport: Any, *, in_session: bool) -> list[str]:
    if not isinstance(transport, dict):
        return ["transport must be an object"]
    errors: list[str] = []
    if transport.get("type") != SMS_TRANSPORT:
        errors.append(f"transport.type must be one of the following values: {SMS_TRANSPORT}")
    has_phone = transport.get("phoneNumberId") is not None
    has_customer = transport.get("customer") is not None
    if in_session and (has_phone or has_customer):
        errors.append(
            "sessionId cannot be used together with transport.phoneNumberId or "
            "transport.customer: the session already has its phone number and customer"
        )
    elif not in_session and not (has_phone and has_customer):
        errors.append(
            "transport.phoneNumberId and transport.customer are required without sessionId"
        )
    if has_phone and not isinstance(transport["phoneNumberId"], str):
        errors.append("transport.phoneNumberId must be a string")
    if has_customer:
        errors += _customer_errors(transport["customer"], "transport.customer")
    flag = transport.get("useLLMGeneratedMessageForOutbound")
    if flag is not None and not isinstance(flag, bool):
        errors.append("transport.useLLMGeneratedMessageForOutbound must be a boolean")
    return errors


def validate_chat(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    errors: list[str] = []
    text = body.get("input")
    if text is None:
        errors.append("input should not be null or undefined")
    elif not isinstance(text, str):
        errors += _messages_errors("input", text)
    for key in ("sessionId", "previousChatId", "name", "assistantId", "squadId"):
        errors += _optional_string(body, key)
    if body.get("sessionId") is not None and body.get("previousChatId") is not None:
        errors.append("sessionId and previousChatId are mutually exclusive")
    if body.get("assistant") is not None and not isinstance(body["assistant"], dict):
        errors.append("assistant must be an object")
    errors += overrides_errors(body.get("assistantOverrides"))
    if body.get("transport") is not None:
        errors += _transport_errors(body["transport"], in_session=body.get("sessionId") is not None)
    return errors


def validate_session(body: Any, *, update: bool = False) -> list[str]:
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    errors: list[str] = []
    name = body.get("name")
    if name is not None and not (isinstance(name, str) and len(name) <= MAX_SESSION_NAME):
        errors.append(f"name must be a string of at most {MAX_SESSION_NAME} characters")
    if body.get("status") is not None and body["status"] not in SESSION_STATUSES:
        errors.append(f"status must be one of the following values: {', '.join(SESSION_STATUSES)}")
    seconds = body.get("expirationSeconds")
    if seconds is not None and not (
        isinstance(seconds, int | float)
        and not isinstance(seconds, bool)
        and math.isfinite(seconds)
        and MIN_EXPIRATION_SECONDS <= seconds <= MAX_EXPIRATION_SECONDS
    ):
        errors.append(
            f"expirationSeconds must be a number from {MIN_EXPIRATION_SECONDS} "
            f"to {MAX_EXPIRATION_SECONDS}"
        )
    if body.get("messages") is not None:
        errors += _messages_errors("messages", body["messages"])
    if update:
        unknown = set(body) - {"name", "status", "expirationSeconds", "messages"}
        errors += [f"property {key} should not exist" for key in sorted(unknown)]
        return errors
    for key in ("phoneNumberId", "assistantId", "squadId", "customerId"):
        errors += _optional_string(body, key)
    if body.get("customer") is not None:
        errors += _customer_errors(body["customer"], "customer")
    errors += overrides_errors(body.get("assistantOverrides"))
    return errors
