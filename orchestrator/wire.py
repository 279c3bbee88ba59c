"""Helpers for Vapi's wire format: timestamps, E.164 numbers and NestJS-worded errors."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import phonenumbers
from pydantic import ConfigDict
from pydantic_core import ErrorDetails

CAMEL_MODEL_CONFIG = ConfigDict(populate_by_name=True, extra="forbid")

# Error type of a rule spanning several fields: its message is already complete.
RULE_ERROR = "rule"

E164_SHAPE = re.compile(r"^\+[1-9]\d{6,14}$")


def is_valid_e164(number: str) -> bool:
    """``+`` and digits only, and a number some country actually assigns."""
    if not E164_SHAPE.match(number):
        return False
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(parsed))


def iso(value: datetime | None) -> str | None:
    """Vapi writes UTC timestamps with milliseconds and a ``Z``: ``2025-01-01T00:00:00.000Z``."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _path(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc)


def nest_message(error: ErrorDetails) -> str:
    """One pydantic error as class-validator would phrase it, prefixed by the field path."""
    loc = [part for part in error["loc"] if part not in ("body", "query", "path")]
    path = _path(loc) or "body"
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    kind = error["type"]
    if kind == RULE_ERROR:
        return str(error["msg"])
    if kind == "missing":
        return f"{path} should not be empty"
    if kind == "extra_forbidden":
        return f"property {path} should not exist"
    if kind == "string_type":
        return f"{path} must be a string"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{path} must be an integer number"
    if kind in ("float_type", "float_parsing"):
        return f"{path} must be a number conforming to the specified constraints"
    if kind in ("bool_type", "bool_parsing"):
        return f"{path} must be a boolean value"
    if kind == "list_type":
        return f"{path} must be an array"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"{path} must be an object"
    if kind in ("datetime_type", "datetime_parsing", "datetime_from_date_parsing"):
        return f"{path} must be a valid ISO 8601 date string"
    if kind == "string_too_long":
        return f"{path} must be shorter than or equal to {ctx.get('max_length')} characters"
    if kind == "string_too_short":
        return f"{path} must be longer than or equal to {ctx.get('min_length')} characters"
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        return f"{path} must not be less than {bound}"
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        return f"{path} must not be greater than {bound}"
    if kind in ("enum", "literal_error"):
        # pydantic lists "'a', 'b' or 'c'"; class-validator lists "a, b, c".
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"{path} must be one of the following values: {expected}"
    if kind == "json_invalid":
        return "body must be valid JSON"
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return f"{path} {message}"


def nest_messages(errors: Iterable[ErrorDetails]) -> list[str]:
    seen: dict[str, None] = {}
    for error in errors:
        seen.setdefault(nest_message(error), None)
    return list(seen)
