"""``POST /campaign/{id}/customers`` refuses, as a problem of its row or customer, what
creation refuses: a SIP URI too long once lower-cased, or blank, a number with a newline."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.factories import campaign_body, post_campaign
from tests.support.errors import error_messages

CSV = {"Content-Type": "text/csv"}
# 255 characters, twice as many once lower-cased: "İ".lower() is "i" and a combining dot.
LENGTHENED_SIP_URI = "sip:" + "İ" * 251


def test_a_sip_uri_too_long_once_lower_cased_is_a_problem_of_its_row(
    api: TestClient, auth: dict[str, str]
) -> None:
    created = post_campaign(api, auth, customers=1)
    url = f"/campaign/{created['id']}/customers"
    csv = api.post(url, content=f"number,sipUri\n,{LENGTHENED_SIP_URI}\n", headers={**auth, **CSV})
    assert error_messages(csv, 400) == [
        "row 2, column sipUri: must be shorter than or equal to 255 characters once lower-cased",
        "1 problems in 1 rows: nothing added",
    ]
    body = {"customers": [{"sipUri": LENGTHENED_SIP_URI}]}
    assert error_messages(api.post(url, json=body, headers=auth), 400) == [
        "customers.0.sipUri must be shorter than or equal to 255 characters once lower-cased",
        "1 problems in 1 customers: nothing added",
    ]


def test_a_blank_sip_uri_is_a_problem_of_its_row(api: TestClient, auth: dict[str, str]) -> None:
    created = post_campaign(api, auth, customers=1)
    url = f"/campaign/{created['id']}/customers"
    csv = api.post(url, content="number,sipUri,name\n,  ,Ada\n", headers={**auth, **CSV})
    assert error_messages(csv, 400) == [
        "row 2, column sipUri: must not be empty or blank",
        "1 problems in 1 rows: nothing added",
    ]
    body = {"customers": [{"sipUri": ""}, {"sipUri": "  "}]}
    assert error_messages(api.post(url, json=body, headers=auth), 400) == [
        "customers.0.sipUri must not be empty or blank",
        "customers.1.sipUri must not be empty or blank",
        "2 problems in 2 customers: nothing added",
    ]


@pytest.mark.parametrize("sip_uri", ["", "  "])
def test_a_blank_sip_uri_refuses_a_campaign(
    api: TestClient, auth: dict[str, str], sip_uri: str
) -> None:
    body = campaign_body(customers=[{"sipUri": sip_uri}])
    response = api.post("/campaign", json=body, headers=auth)
    assert error_messages(response, 400) == ["customers.0.sipUri must not be empty or blank"]


def test_a_number_ending_in_a_newline_is_no_e164_number(
    api: TestClient, auth: dict[str, str]
) -> None:
    created = post_campaign(api, auth, customers=1)
    url = f"/campaign/{created['id']}/customers"
    csv = api.post(url, content='number\n"+14155550300\n"\n', headers={**auth, **CSV})
    assert error_messages(csv, 400) == [
        "row 2, column number: must be a valid E.164 phone number",
        "1 problems in 1 rows: nothing added",
    ]
    body = {"customers": [{"number": "+14155550300\n"}]}
    assert error_messages(api.post(url, json=body, headers=auth), 400) == [
        "customers.0.number must be a valid E.164 phone number",
        "1 problems in 1 customers: nothing added",
    ]
    creation = campaign_body(customers=[{"number": "+14155550300\n"}])
    assert error_messages(api.post("/campaign", json=creation, headers=auth), 400) == [
        "customers.0.number must be a valid E.164 phone number"
    ]
