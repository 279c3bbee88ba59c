"""The demo's campaign: its fictional customers and how they are split across caller numbers."""

from __future__ import annotations

import phonenumbers
import pytest

from orchestrator.demo.campaign import MAX_CONTACTS, campaign_body, demo_customers


def test_demo_customers_are_distinct_valid_e164_numbers() -> None:
    customers = demo_customers(MAX_CONTACTS)
    numbers = [customer["number"] for customer in customers]
    assert len(set(numbers)) == MAX_CONTACTS
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(n)) for n in numbers)
    with pytest.raises(ValueError, match="between 1 and"):
        demo_customers(MAX_CONTACTS + 1)


def test_demo_campaign_splits_customers_across_two_numbers() -> None:
    body = campaign_body(demo_customers(5), max_concurrency=3)
    assert [len(entry["customers"]) for entry in body["dialPlan"]] == [3, 2]
    assert "phoneNumberId" not in body
    assert len(campaign_body(demo_customers(1), max_concurrency=1)["dialPlan"]) == 1
