"""Customers to contacts: E.164 checks, dial order, caller numbers and duplicate detection."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.campaigns.schemas import CustomerIn
from orchestrator.contacts.service import (
    CustomerBatch,
    customer_key,
    normalize_customers,
)
from orchestrator.wire import is_valid_e164
from tests.factories import customer_numbers


def unchecked(**fields: Any) -> CustomerIn:
    """A customer as a caller other than the API might build it, skipping schema checks."""
    values: dict[str, Any] = {"number_e164_check_enabled": True, "number": None, "sip_uri": None}
    values.update(fields)
    return CustomerIn.model_construct(**values)


@pytest.mark.parametrize(
    "number",
    ["+14155550100", "+442079460958", "+33142685300", "+4930901820", "+61293744000"],
)
def test_valid_e164(number: str) -> None:
    assert is_valid_e164(number)


@pytest.mark.parametrize(
    "number",
    [
        "14155550100",
        "+1 415 555 0100",
        "+1-415-555-0100",
        "+1(415)5550100",
        "+01415550100",
        "+1415",
        "+1415555010012345",
        "+19995550100",
        "+1415555010a",
        "",
        "+",
        " +14155550100",
    ],
)
def test_invalid_e164(number: str) -> None:
    assert not is_valid_e164(number)


@given(st.text(max_size=20))
def test_e164_never_raises(text: str) -> None:
    assert is_valid_e164(text) in (True, False)


@given(st.integers(min_value=0, max_value=99_999))
def test_factory_numbers_are_valid(start: int) -> None:
    assert all(is_valid_e164(n) for n in customer_numbers(3, start=start))


def test_positions_follow_dial_order_across_batches() -> None:
    numbers = customer_numbers(5)
    batches = [
        CustomerBatch(
            "dialPlan.0.customers", "phone-a", [unchecked(number=n) for n in numbers[:2]]
        ),
        CustomerBatch(
            "dialPlan.1.customers", "phone-b", [unchecked(number=n) for n in numbers[2:]]
        ),
    ]
    contacts, errors = normalize_customers(batches)
    assert errors == []
    assert [(c.position, c.phone_number_id, c.number) for c in contacts] == [
        (0, "phone-a", numbers[0]),
        (1, "phone-a", numbers[1]),
        (2, "phone-b", numbers[2]),
        (3, "phone-b", numbers[3]),
        (4, "phone-b", numbers[4]),
    ]
    assert len({c.dedupe_key for c in contacts}) == 5


def test_customer_is_kept_as_posted() -> None:
    posted = CustomerIn.model_validate(
        {"number": "+14155550100", "name": "Ada", "externalId": "crm-1", "extension": "77"}
    )
    contacts, _ = normalize_customers([CustomerBatch("customers", "phone-1", [posted])])
    assert contacts[0].customer == {
        "number": "+14155550100",
        "name": "Ada",
        "externalId": "crm-1",
        "extension": "77",
    }


def test_every_bad_customer_is_reported_and_left_out() -> None:
    batch = CustomerBatch(
        "customers",
        "phone-1",
        [
            unchecked(number="+14155550100"),
            unchecked(),
            unchecked(number="555", number_e164_check_enabled=False),
            unchecked(number="+14155550100"),
        ],
    )
    contacts, errors = normalize_customers([batch])
    assert errors == [
        "customers.1 must have a number or a sipUri",
        "customers.3.number duplicates customers.0.number",
    ]
    assert [(c.position, c.number) for c in contacts] == [(0, "+14155550100"), (1, "555")]


def test_duplicates_across_batches_name_both_paths() -> None:
    number = "+14155550100"
    batches = [
        CustomerBatch("dialPlan.0.customers", "a", [unchecked(number=number)]),
        CustomerBatch("dialPlan.1.customers", "b", [unchecked(number=number)]),
    ]
    _, errors = normalize_customers(batches)
    assert errors == ["dialPlan.1.customers.0.number duplicates dialPlan.0.customers.0.number"]


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ({"number": "+14155550100"}, {"number": "+14155550100"}, True),
        ({"number": "(415) 555-0100"}, {"number": "415.555.0100"}, True),
        ({"number": "+14155550100", "extension": "1"}, {"number": "+14155550100"}, False),
        (
            {"number": "+14155550100", "extension": "1"},
            {"number": "+14155550100", "extension": "2"},
            False,
        ),
        ({"sip_uri": "sip:a@example.com"}, {"sip_uri": " SIP:A@example.com "}, True),
        ({"sip_uri": "sip:a@example.com"}, {"sip_uri": "sip:b@example.com"}, False),
        ({"number": "ops-desk"}, {"number": "front-desk"}, False),
    ],
)
def test_customer_key(first: dict[str, Any], second: dict[str, Any], same: bool) -> None:
    assert (customer_key(unchecked(**first)) == customer_key(unchecked(**second))) is same


def test_customer_without_destination_has_no_key() -> None:
    assert customer_key(unchecked()) is None


def test_no_customers() -> None:
    assert normalize_customers([]) == ([], [])
    assert normalize_customers([CustomerBatch("customers", "p", [])]) == ([], [])
