"""A text's template rendered for one contact with Liquid, as Vapi renders variables.

The variables are the customer's fields as posted (``{{customer.name}}``,
``{{customer.number}}``) and ``assistantOverrides.variableValues``: the campaign's, then the
contact's over them (deep-merged), each at the top level (``{{appointmentTime}}``). An
undefined variable is an error, not an empty string: a reminder without its time is worse
than none (``{{ x | default: "..." }}`` gives one).

A template is the caller's code run for every contact, so it runs within limits: at most
:data:`LOOP_ITERATION_LIMIT` loop iterations and :data:`OUTPUT_STREAM_LIMIT` characters
written, and what it renders is a text of at most :data:`MAX_TEXT_LENGTH` characters (ten
SMS segments); past any of them it does not render.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from liquid import BoundTemplate, Environment, StrictDefaultUndefined
from liquid.exceptions import LiquidError

VARIABLE_VALUES = "variableValues"
MAX_TEXT_LENGTH = 1600
LOOP_ITERATION_LIMIT = 10_000
# Room for whitespace a template trims away after it is written; far below what would slow
# a request down.
OUTPUT_STREAM_LIMIT = 16 * MAX_TEXT_LENGTH


class TemplateError(ValueError):
    """A template that does not parse, or does not render for a contact."""


class _LimitedEnvironment(Environment):
    loop_iteration_limit = LOOP_ITERATION_LIMIT
    output_stream_limit = OUTPUT_STREAM_LIMIT


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return _LimitedEnvironment(undefined=StrictDefaultUndefined)


@lru_cache(maxsize=256)
def _compiled(source: str) -> BoundTemplate:
    return _environment().from_string(source)


def _first_line(error: LiquidError) -> str:
    return str(error).splitlines()[0].strip()


def parse_template(source: str) -> BoundTemplate:
    """The compiled template; a :class:`TemplateError` when it does not parse."""
    try:
        return _compiled(source)
    except LiquidError as error:
        raise TemplateError(_first_line(error)) from error


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over``'s values over ``base``'s; nested objects are merged, not replaced."""
    merged = dict(base)
    for key, value in over.items():
        below = merged.get(key)
        if isinstance(below, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(below, value)
        else:
            merged[key] = value
    return merged


def _variable_values(overrides: Mapping[str, Any] | None) -> Mapping[str, Any]:
    values = (overrides or {}).get(VARIABLE_VALUES)
    return values if isinstance(values, Mapping) else {}


def template_variables(
    *, customer: Mapping[str, Any], campaign_overrides: Mapping[str, Any] | None
) -> dict[str, Any]:
    """What a contact's template sees: the merged variable values, and ``customer``."""
    customer_overrides = customer.get("assistantOverrides")
    values = deep_merge(
        _variable_values(campaign_overrides),
        _variable_values(customer_overrides if isinstance(customer_overrides, Mapping) else None),
    )
    return {**values, "customer": dict(customer)}


def render_text(
    source: str, *, customer: Mapping[str, Any], campaign_overrides: Mapping[str, Any] | None
) -> str:
    """The text for one contact; a :class:`TemplateError` when it cannot be rendered."""
    template = parse_template(source)
    variables = template_variables(customer=customer, campaign_overrides=campaign_overrides)
    try:
        rendered = template.render(**variables)
    except LiquidError as error:
        raise TemplateError(_first_line(error)) from error
    if len(rendered) > MAX_TEXT_LENGTH:
        raise TemplateError(
            f"the text is {len(rendered)} characters long; at most {MAX_TEXT_LENGTH} are sent"
        )
    return rendered
