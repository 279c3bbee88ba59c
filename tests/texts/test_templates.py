"""A text's Liquid template rendered from the customer and the merged variable values."""

from __future__ import annotations

import pytest

from orchestrator.texts.templates import TemplateError, deep_merge, parse_template, render_text


def test_customer_fields_and_variable_values_render_as_vapi_names_them() -> None:
    text = render_text(
        "Hi {{customer.name}}, your appointment is {{appointmentTime}} at {{place.room}}.",
        customer={
            "number": "+14155550100",
            "name": "Ada",
            "assistantOverrides": {"variableValues": {"appointmentTime": "10:00"}},
        },
        campaign_overrides={"variableValues": {"appointmentTime": "9:00", "place": {"room": 4}}},
    )
    assert text == "Hi Ada, your appointment is 10:00 at 4."


def test_the_contacts_values_are_merged_into_the_campaigns_deeply() -> None:
    merged = deep_merge({"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"c": 3}, "e": 5})
    assert merged == {"a": {"b": 1, "c": 3}, "d": 1, "e": 5}


def test_an_undefined_variable_fails_rather_than_render_empty() -> None:
    with pytest.raises(TemplateError, match="'appointmentTime' is undefined"):
        render_text("At {{appointmentTime}}", customer={"number": "+1"}, campaign_overrides=None)


def test_a_default_filter_gives_an_undefined_variable_a_value() -> None:
    text = render_text(
        '{{ customer.name | default: "there" }}', customer={}, campaign_overrides=None
    )
    assert text == "there"


def test_a_template_that_does_not_parse_is_an_error() -> None:
    with pytest.raises(TemplateError):
        parse_template("Hi {{ customer.name ")


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("{% for i in (1..200) %}{% for j in (1..200) %}{% endfor %}{% endfor %}", "loop"),
        ("{% for i in (1..9000) %}{{ customer.name }}{% endfor %}", "output stream limit"),
        ("{{ customer.name }}" + "x" * 1598, "the text is 1601 characters long"),
    ],
)
def test_a_template_runs_within_limits_and_renders_a_text_of_at_most_1600(
    source: str, error: str
) -> None:
    with pytest.raises(TemplateError, match=error):
        render_text(source, customer={"name": "Ada"}, campaign_overrides=None)
    exactly = render_text("x" * 1600, customer={}, campaign_overrides=None)
    assert len(exactly) == 1600
