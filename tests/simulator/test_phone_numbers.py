"""``GET /phone-number[/{id}]``: every number a call named or the simulator was started with,
as Vapi's ``VapiPhoneNumber``, kept across restarts like its calls."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from vapi import GetPhoneNumbersResponse_Vapi, ListPhoneNumbersResponseItem_Vapi, Vapi
from vapi.types import VapiPhoneNumber

from orchestrator.simulator import PhoneNumberSpecError, SimulatorConfig, parse_phone_numbers
from orchestrator.simulator.phone_numbers import derived_number, sms_disabled
from orchestrator.simulator.state import DEFAULT_ORG_ID
from tests.support.sdk import checked, strictly
from tests.support.simulators import API_KEY, PHONE, SimulatorHandle, running

E164 = re.compile(r"^\+[1-9]\d{1,14}$")


def numbers_of(base_url: str, **params: Any) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    response = httpx.get(f"{base_url}/phone-number", params=params, headers=headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def number_of(base_url: str, phone_id: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    return httpx.get(f"{base_url}/phone-number/{phone_id}", headers=headers)


def test_numbers_it_starts_with_and_those_calls_name_are_vapi_numbers() -> None:
    given = "+14155550123"
    with running(None, phone_numbers=("line-1", f"line-2={given}")) as sim:
        sim.create("+14440000001")  # names PHONE
        listed = numbers_of(sim.base_url)
        by_id = {number["id"]: number for number in listed}
        assert [number["id"] for number in listed] == [PHONE, "line-2", "line-1"]  # newest first
        for number in listed:
            strictly(VapiPhoneNumber, number)
            parsed = strictly(ListPhoneNumbersResponseItem_Vapi, number)
            assert (parsed.provider, parsed.org_id, parsed.status) == (
                "vapi",
                DEFAULT_ORG_ID,
                "active",
            )
            assert E164.match(str(parsed.number))
            assert number_of(sim.base_url, number["id"]).json() == number
        assert by_id["line-2"]["number"] == given
        assert by_id["line-1"]["number"] == derived_number("line-1")
        assert by_id[PHONE]["createdAt"] == sim.calls()[0]["createdAt"]


def test_vapis_sdk_parses_the_simulators_numbers() -> None:
    with running(None, phone_numbers=("line-1", "line-2")) as sim:
        client = Vapi(token=API_KEY, base_url=sim.base_url)
        listed = client.phone_numbers.list()
        assert [type(number) for number in listed] == [ListPhoneNumbersResponseItem_Vapi] * 2
        for parsed, number in zip(listed, numbers_of(sim.base_url), strict=True):
            assert checked(parsed, number).model_extra == {}
        fetched = client.phone_numbers.get("line-1")
        assert isinstance(fetched, GetPhoneNumbersResponse_Vapi) and fetched.id == "line-1"
        assert checked(fetched, number_of(sim.base_url, "line-1").json()).model_extra == {}


def test_an_unknown_number_is_404_in_vapis_shape(simulator: SimulatorHandle) -> None:
    response = number_of(simulator.base_url, "nobody")
    assert response.status_code == 404
    assert response.json() == {
        "statusCode": 404,
        "error": "Not Found",
        "message": "Phone number nobody not found.",
    }


def test_phone_numbers_need_the_bearer_key(simulator: SimulatorHandle) -> None:
    for path in ("/phone-number", "/phone-number/x"):
        response = httpx.get(f"{simulator.base_url}{path}")
        assert response.status_code == 401
        assert response.json()["error"] == "Unauthorized"


def test_limit_and_time_bounds_filter_the_list() -> None:
    with running(None, phone_numbers=("a",)) as sim:
        time.sleep(0.01)
        sim.create("+14440000002")
        listed = numbers_of(sim.base_url)
        newest, oldest = listed
        assert [n["id"] for n in numbers_of(sim.base_url, limit=1)] == [newest["id"]]
        assert numbers_of(sim.base_url, limit=0) == []
        after = {"createdAtGt": oldest["createdAt"]}
        assert [n["id"] for n in numbers_of(sim.base_url, **after)] == [newest["id"]]
        up_to = {"createdAtLe": oldest["createdAt"], "updatedAtGe": oldest["updatedAt"]}
        assert [n["id"] for n in numbers_of(sim.base_url, **up_to)] == ["a"]
        bad = httpx.get(
            f"{sim.base_url}/phone-number",
            params={"limit": 1001, "createdAtGt": "yesterday"},
            headers=sim.headers,
        )
        assert bad.status_code == 400
        assert len(bad.json()["message"]) == 2


def test_numbers_are_kept_across_restarts(tmp_path: Path) -> None:
    with running(tmp_path, phone_numbers=("line-1",)) as sim:
        sim.create("+14440000003")
        before = numbers_of(sim.base_url)
        call_id = sim.calls()[0]["id"]
        assert sim.forget({"ids": [call_id]}).status_code == 200
    with running(tmp_path) as sim:
        assert numbers_of(sim.base_url) == before  # a forgotten call's number stays known
    given = "+13125550111"
    with running(tmp_path, phone_numbers=(f"line-1={given}",)) as sim:
        line = next(n for n in before if n["id"] == "line-1")
        moved = number_of(sim.base_url, "line-1").json()
        assert (moved["number"], moved["createdAt"]) == (given, line["createdAt"])
        assert moved["updatedAt"] > line["updatedAt"]
    with running(tmp_path, phone_numbers=(f"line-1={given}",)) as sim:
        assert number_of(sim.base_url, "line-1").json() == moved


def test_a_reset_keeps_only_the_numbers_it_was_started_with(tmp_path: Path) -> None:
    with running(tmp_path, phone_numbers=("line-1",)) as sim:
        sim.create("+14440000004")
        assert httpx.post(f"{sim.base_url}/simulator/reset").status_code == 200
        assert [n["id"] for n in numbers_of(sim.base_url)] == ["line-1"]
    with running(tmp_path) as sim:
        assert [n["id"] for n in numbers_of(sim.base_url)] == ["line-1"]


def test_a_journal_without_phone_lines_knows_its_calls_numbers(tmp_path: Path) -> None:
    """Journals kept before numbers were: a number is known from its first call."""
    with running(tmp_path) as sim:
        sim.create("+14440000005")
        created = sim.calls()[0]["createdAt"]
    journal = tmp_path / "journal.jsonl"
    lines = [line for line in journal.read_text().splitlines() if '"op":"phone"' not in line]
    journal.write_text("\n".join(lines) + "\n")
    with running(tmp_path) as sim:
        (number,) = numbers_of(sim.base_url)
        assert (number["id"], number["createdAt"]) == (PHONE, created)


def test_a_bad_phone_number_spec_names_every_problem() -> None:
    assert parse_phone_numbers(["a, b=+14155550123", "c"]) == {
        "a": None,
        "b": "+14155550123",
        "c": None,
    }
    with pytest.raises(PhoneNumberSpecError) as raised:
        SimulatorConfig(phone_numbers=("good,=+1415,x=12345,has space",))
    message = str(raised.value)
    assert "'=+1415': the id must be" in message
    assert "'x=12345': the number must be E.164" in message
    assert "'has space': the id must be" in message


def test_a_derived_number_is_fictional_and_stable() -> None:
    numbers = {derived_number(f"id-{i}") for i in range(50)}
    assert all(re.match(r"^\+1[2-9]\d\d55501\d\d$", number) for number in numbers)
    assert len(numbers) > 40
    assert derived_number("line-1") == derived_number("line-1")


def test_a_number_marked_nosms_cannot_text_and_keeps_it_across_restarts(tmp_path: Path) -> None:
    specs = ["a:nosms, b=+447700900123:nosms", "c=+14155550123"]
    assert parse_phone_numbers(specs) == {"a": None, "b": "+447700900123", "c": "+14155550123"}
    assert sms_disabled(specs) == {"a", "b"}
    with running(tmp_path, phone_numbers=("line-1:nosms",)) as sim:
        assert sim.simulator is not None
        first = sim.simulator.state._ledger.phone_numbers["line-1"]
        assert not first.sms_enabled
        assert "smsEnabled" not in number_of(sim.base_url, "line-1").json()  # not Vapi's field
    with running(tmp_path) as sim:
        assert sim.simulator is not None
        assert not sim.simulator.state._ledger.phone_numbers["line-1"].sms_enabled
    with running(tmp_path, phone_numbers=("line-1",)) as sim:
        assert sim.simulator is not None
        again = sim.simulator.state._ledger.phone_numbers["line-1"]
        assert again.sms_enabled and again.number == first.number
