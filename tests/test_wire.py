"""What Postgres cannot store is refused as the request is read, with a 400 naming the field,
rather than failing in the database: NUL characters, unpaired surrogates, non-finite numbers,
free-form JSON nested too deep, and times outside the years a datetime can hold."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from orchestrator.wire import MAX_JSON_DEPTH, JsonObject, Text, nest_messages
from tests.factories import campaign_body, customer_numbers
from tests.support.errors import error_messages


class Sample(BaseModel):
    name: Text | None = None
    overrides: JsonObject | None = None


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate(data)
    return nest_messages(caught.value.errors())


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_text_refuses_nul_characters_and_unpaired_surrogates() -> None:
    assert problems({"name": "a\x00b"}) == ["name must not contain NUL characters"]
    assert problems({"name": "a\ud800"}) == ["name must be a valid Unicode string"]
    assert Sample.model_validate({"name": "ok \U0001f600"}).name == "ok \U0001f600"


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"a": ["x", {"b": "\x00"}]}, "must not contain NUL characters or unpaired surrogates"),
        ({"key\x00": 1}, "must not contain NUL characters or unpaired surrogates"),
        ({"a": "\udfff"}, "must not contain NUL characters or unpaired surrogates"),
        ({"a": [1.5, float("inf")]}, "must not contain NaN or Infinity"),
        ({"a": float("nan")}, "must not contain NaN or Infinity"),
        (nested(MAX_JSON_DEPTH + 1), f"must not be nested more than {MAX_JSON_DEPTH} levels deep"),
    ],
)
def test_free_form_objects_refuse_what_postgres_cannot_store(
    overrides: dict[str, Any], problem: str
) -> None:
    assert problems({"overrides": overrides}) == [f"overrides {problem}"]


def test_free_form_objects_keep_everything_else_as_given() -> None:
    overrides = {"a": [1, 2**70, -0.5, None, True, {"b": "x \U0001f600"}]}

    assert Sample.model_validate({"overrides": overrides}).overrides == overrides
    deepest = nested(MAX_JSON_DEPTH)
    assert Sample.model_validate({"overrides": deepest}).overrides == deepest


def test_a_campaign_with_unstorable_text_is_a_400(api: TestClient, auth: dict[str, str]) -> None:
    body = campaign_body(name="a\x00b", assistantOverrides={"firstMessage": "hi\x00"})

    response = api.post("/campaign", json=body, headers=auth)

    assert error_messages(response, 400) == [
        "name must not contain NUL characters",
        "assistantOverrides must not contain NUL characters or unpaired surrogates",
    ]


def test_a_call_with_infinity_in_its_assistant_is_a_400(
    api: TestClient, auth: dict[str, str]
) -> None:
    body = {"phoneNumberId": "phone-1", "customer": {"number": customer_numbers(1)[0]}}
    raw = json.dumps(body)[:-1] + ', "assistant": {"temperature": 1e400}}'

    response = api.post("/call", content=raw, headers={**auth, "content-type": "application/json"})

    assert error_messages(response, 400) == ["assistant must not contain NaN or Infinity"]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/phone-number/a%00b"),
        ("PUT", "/phone-number/a%00b/pacing"),
        ("GET", "/call?assistantId=a%00b"),
        ("GET", "/campaign?id=a%00b"),
    ],
)
def test_nul_characters_in_paths_and_queries_are_a_400(
    api: TestClient, auth: dict[str, str], method: str, url: str
) -> None:
    response = api.request(method, url, json={"callsPerSecond": 1}, headers=auth)

    [problem] = error_messages(response, 400)
    assert problem.endswith("must not contain NUL characters")


@pytest.mark.parametrize("moment", ["9999-12-31T23:00:00-14:00", "0001-01-01T00:00:00+14:00"])
def test_a_schedule_past_the_years_a_datetime_holds_is_a_400(
    api: TestClient, auth: dict[str, str], moment: str
) -> None:
    body = campaign_body(schedulePlan={"earliestAt": moment})

    response = api.post("/campaign", json=body, headers=auth)

    assert error_messages(response, 400) == [
        "schedulePlan.earliestAt must be between 0001-01-02T00:00:00.000Z and "
        "9999-01-01T00:00:00.000Z"
    ]
