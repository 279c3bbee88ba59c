"""What the simulator accepts: the bodies of ``POST /call`` and ``POST /simulator/forget``.

Each check returns every problem it finds as a message, for a 400 in Vapi's NestJS shape.
"""

from __future__ import annotations

from typing import Any

CALL_TARGETS = ("assistantId", "assistant", "squadId", "squad", "workflowId", "workflow")


def validate_create(body: Any) -> list[str]:
    """The subset of Vapi's CreateCallDTO rules the orchestrator could trip over."""
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    errors: list[str] = []
    customer = body.get("customer")
    number = customer.get("number") if isinstance(customer, dict) else None
    if not isinstance(number, str) or not number.strip():
        errors.append("customer.number must be a non-empty string")
    phone_number_id = body.get("phoneNumberId")
    if not isinstance(phone_number_id, str) or not phone_number_id.strip():
        errors.append("phoneNumberId must be a non-empty string")
    if sum(body.get(key) is not None for key in CALL_TARGETS) != 1:
        errors.append(f"exactly one of {', '.join(CALL_TARGETS)} must be provided")
    if body.get("customers") is not None:
        errors.append("customers (batch calls) is not supported by the simulator")
    errors.extend(overrides_errors(body.get("assistantOverrides")))
    return errors


def overrides_errors(overrides: Any) -> list[str]:
    if overrides is None:
        return []
    if not isinstance(overrides, dict):
        return ["assistantOverrides must be an object"]
    server = overrides.get("server")
    if server is None:
        return []
    if not isinstance(server, dict):
        return ["assistantOverrides.server must be an object"]
    errors: list[str] = []
    if not isinstance(server.get("url"), str):
        errors.append("assistantOverrides.server.url must be a string")
    headers = server.get("headers")
    if headers is not None and not (
        isinstance(headers, dict) and all(isinstance(v, str) for v in headers.values())
    ):
        errors.append("assistantOverrides.server.headers must be an object of strings")
    return errors


def parse_forget(body: Any) -> tuple[list[str] | None, list[str]]:
    """``(ids, errors)`` of a forget body; ids None means every call in flight."""
    if not isinstance(body, dict):
        return None, ['body must be a JSON object: {"ids": [...]} or {"inFlight": true}']
    errors = [f"unknown field {key}" for key in body if key not in ("ids", "inFlight")]
    if ("ids" in body) == ("inFlight" in body):
        errors.append("exactly one of ids, inFlight must be provided")
    ids = body.get("ids")
    if "ids" in body and not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
        errors.append("ids must be an array of strings")
    if "inFlight" in body and body["inFlight"] is not True:
        errors.append("inFlight must be true")
    return ids, errors
