"""Appended customers are de-duplicated by creation's key, whatever way their number is written."""

from __future__ import annotations

import pytest

from orchestrator.campaigns.schemas import CustomerIn
from orchestrator.contacts.importing import dedupe_key
from orchestrator.contacts.service import customer_key


@pytest.mark.parametrize(
    "customer",
    [
        {"number": "+14155550123"},
        {"number": "+14155550123", "extension": "12"},
        {"number": "+1 (415) 555-0123", "numberE164CheckEnabled": False},
        {"number": "+14155550123\n", "numberE164CheckEnabled": False},
        {"number": "abc", "numberE164CheckEnabled": False},
        {"sipUri": " SIP:Desk@Example.com "},
    ],
)
def test_an_appended_customer_has_creations_key(customer: dict[str, object]) -> None:
    parsed = CustomerIn.model_validate(customer)
    assert dedupe_key(parsed.model_dump(by_alias=True, exclude_unset=True)) == customer_key(parsed)
