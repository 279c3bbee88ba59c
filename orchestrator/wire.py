"""Helpers for Vapi's wire format: timestamps, E.164 numbers, text Postgres can store,
NestJS-worded errors, and the shared pieces of the response models."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

CAMEL_MODEL_CONFIG = ConfigDict(populate_by_name=True, extra="forbid")

# Response models check what the wire functions build: a key they do not declare is an error,
# so the document cannot fall behind the answers.
RESPONSE_MODEL_CONFIG = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

# A timestamp as :func:`iso` writes it, passed through as the string it is.
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]

# The type of a field the answer leaves out rather than sending null: ``str | Omitted = None``.
# Routes answer with ``response_model_exclude_unset``, so what the wire left out stays out.
Omitted = SkipJsonSchema[None]

# Error type of a rule spanning several fields: its message is already complete.
RULE_ERROR = "rule"

Parsed = TypeVar("Parsed", bound=BaseModel)


def validate_with_rules(
    data: Any,
    handler: ModelWrapValidatorHandler[Parsed],
    rules_of: Callable[[Mapping[str, Any]], list[str]],
) -> Parsed:
    """Parse ``data``; when it fails, report the cross-field rules it breaks in the same error."""
    try:
        return handler(data)
    except ValidationError as exc:
        rules = rules_of(data) if isinstance(data, Mapping) else []
        if not rules:
            raise
        raise with_rule_errors(exc, rules, data) from None


def with_rule_errors(exc: ValidationError, rules: list[str], data: Any) -> ValidationError:
    details = [
        InitErrorDetails(
            type=PydanticCustomError(error["type"], error["msg"], error.get("ctx")),
            loc=error["loc"],
            input=error["input"],
        )
        for error in exc.errors(include_url=False)
    ]
    details += [
        InitErrorDetails(type=PydanticCustomError(RULE_ERROR, rule), loc=(), input=data)
        for rule in rules
    ]
    return ValidationError.from_exception_data(exc.title, details)


# Postgres stores no NUL character, in text or in JSON: a string holding one is a 400, not a
# database error. The pattern also makes pydantic refuse strings that are not valid Unicode
# (unpaired surrogates, which JSON's \u escapes can spell), another thing Postgres refuses.
STORABLE_TEXT = r"^[^\x00]*$"
Text = Annotated[str, Field(pattern=STORABLE_TEXT)]
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


# How deep a free-form JSON object may nest: answers that carry it must still serialize.
MAX_JSON_DEPTH = 64


def _unstorable(value: object) -> str | None:
    """What in a decoded JSON value could not be stored or sent back, if anything (walked
    without recursion: a deeply nested body must not exhaust the stack)."""
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return "must not contain NUL characters or unpaired surrogates"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "must not contain NaN or Infinity"
        elif isinstance(item, dict | list):
            if depth == MAX_JSON_DEPTH:
                return f"must not be nested more than {MAX_JSON_DEPTH} levels deep"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return None


def _storable_object(value: dict[str, Any]) -> dict[str, Any]:
    problem = _unstorable(value)
    if problem is not None:
        raise PydanticCustomError("storable_json", problem)
    return value


# A free-form JSON object taken as given (``assistantOverrides``, ``server``...) and stored.
JsonObject = Annotated[dict[str, Any], AfterValidator(_storable_object)]

# \A and \Z: ``$`` would also match before a final newline. [0-9]: \d takes any script's digits.
E164_SHAPE = re.compile(r"\A\+[1-9][0-9]{6,14}\Z")


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


_PHRASES: dict[str, str] = {
    "missing": "{path} should not be empty",
    "extra_forbidden": "property {path} should not exist",
    "string_type": "{path} must be a string",
    "int_type": "{path} must be an integer number",
    "int_parsing": "{path} must be an integer number",
    "int_from_float": "{path} must be an integer number",
    "float_type": "{path} must be a number conforming to the specified constraints",
    "float_parsing": "{path} must be a number conforming to the specified constraints",
    "bool_type": "{path} must be a boolean value",
    "bool_parsing": "{path} must be a boolean value",
    "list_type": "{path} must be an array",
    "dict_type": "{path} must be an object",
    "model_type": "{path} must be an object",
    "model_attributes_type": "{path} must be an object",
    "datetime_type": "{path} must be a valid ISO 8601 date string",
    "datetime_parsing": "{path} must be a valid ISO 8601 date string",
    "datetime_from_date_parsing": "{path} must be a valid ISO 8601 date string",
    "string_too_long": "{path} must be shorter than or equal to {max_length} characters",
    "string_too_short": "{path} must be longer than or equal to {min_length} characters",
    "greater_than_equal": "{path} must not be less than {ge}",
    "greater_than": "{path} must be greater than {gt}",
    "less_than_equal": "{path} must not be greater than {le}",
    "less_than": "{path} must be less than {lt}",
    "enum": "{path} must be one of the following values: {expected}",
    "literal_error": "{path} must be one of the following values: {expected}",
    "json_invalid": "body must be valid JSON",
    "string_unicode": "{path} must be a valid Unicode string",
    "string_pattern_mismatch": "{path} must match {pattern} regular expression",
}


def nest_message(error: ErrorDetails) -> str:
    """One pydantic error as class-validator would phrase it, prefixed by the field path."""
    loc = [part for part in error["loc"] if part not in ("body", "query", "path")]
    path = _path(loc) or "body"
    kind = error["type"]
    if kind == RULE_ERROR:
        return str(error["msg"])
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if "expected" in ctx:
        # pydantic lists "'a', 'b' or 'c'"; class-validator lists "a, b, c".
        ctx["expected"] = str(ctx["expected"]).replace("'", "").replace(" or ", ", ")
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == STORABLE_TEXT:
        return f"{path} must not contain NUL characters"
    phrase = _PHRASES.get(kind)
    if phrase is not None:
        return phrase.format_map({**ctx, "path": path})
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return f"{path} {message}"


def nest_messages(errors: Iterable[ErrorDetails]) -> list[str]:
    seen: dict[str, None] = {}
    for error in errors:
        seen.setdefault(nest_message(error), None)
    return list(seen)
