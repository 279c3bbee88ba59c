"""Contacts: the customers' numbers a campaign brings, and its contacts read back."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.models import Contact

AREA_CODES = ("415", "650", "212", "312", "617", "206", "303", "512", "702", "808")


def customer_numbers(count: int, *, start: int = 0) -> list[str]:
    """Distinct, valid US numbers in E.164, deterministic for a given ``start``."""
    numbers = []
    for i in range(start, start + count):
        area = AREA_CODES[(i // 10000) % len(AREA_CODES)]
        numbers.append(f"+1{area}555{i % 10000:04d}")
    return numbers


def contacts_of(session: Session, *, campaign_id: uuid.UUID) -> list[Contact]:
    """The campaign's contacts in dial order, as the database holds them now."""
    stmt = (
        select(Contact)
        .where(Contact.campaign_id == campaign_id)
        .order_by(Contact.position)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))
