"""Turning a request's customers into contacts: E.164 validation, dial order, de-duplication."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.campaigns.schemas import CustomerIn
from orchestrator.scheduling.calling_hours.zone_key import contact_zone_key


@dataclass(frozen=True)
class NewContact:
    position: int
    phone_number_id: str | None
    number: str | None
    dedupe_key: str
    customer: dict[str, Any]
    zone_key: str = ""


@dataclass(frozen=True)
class CustomerBatch:
    """Customers of one caller number, with the path their errors are reported under."""

    path: str
    phone_number_id: str | None
    customers: Sequence[CustomerIn]


def customer_key(customer: CustomerIn) -> str | None:
    """Two customers with the same key would reach the same phone: only one may be called."""
    if customer.number:
        # Formatting does not make a different phone; a number without digits (allowed when
        # the E.164 check is off) is its own key rather than colliding with every other one.
        digits = re.sub(r"[^\d+]", "", customer.number) or customer.number.strip()
        extension = f";ext={customer.extension}" if customer.extension else ""
        return f"tel:{digits}{extension}"
    if customer.sip_uri:
        return f"sip:{customer.sip_uri.strip().lower()}"
    return None


def _customer_errors(customer: CustomerIn, path: str) -> list[str]:
    """Rules across customers; each number's E.164 form was checked when the body was parsed."""
    if customer.number is None and customer.sip_uri is None:
        return [f"{path} must have a number or a sipUri"]
    return []


def normalize_customers(batches: Sequence[CustomerBatch]) -> tuple[list[NewContact], list[str]]:
    """Validate every customer and give each a dial-order position; duplicates are rejected.

    A duplicate number is an error rather than silently dropped, so that the caller always
    knows exactly which customers the campaign will call.
    """
    contacts: list[NewContact] = []
    errors: list[str] = []
    first_seen: dict[str, str] = {}
    for batch in batches:
        for index, customer in enumerate(batch.customers):
            path = f"{batch.path}.{index}"
            problems = _customer_errors(customer, path)
            key = customer_key(customer)
            if not problems and key is not None:
                if key in first_seen:
                    field = "number" if customer.number else "sipUri"
                    problems = [f"{path}.{field} duplicates {first_seen[key]}.{field}"]
                else:
                    first_seen[key] = path
            if problems:
                errors.extend(problems)
                continue
            contacts.append(
                NewContact(
                    position=len(contacts),
                    phone_number_id=batch.phone_number_id,
                    number=customer.number,
                    dedupe_key=key or path,
                    customer=customer.model_dump(by_alias=True, exclude_unset=True),
                    zone_key=contact_zone_key(
                        number=customer.number, customer_timezone=customer.timezone
                    ),
                )
            )
    return contacts, errors
