"""Plain factory functions for test data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.db import UnitOfWork
from orchestrator.enqueue import DISPATCH_ORG, TaskQueue
from orchestrator.orgs.service import CreatedOrg, create_org
from orchestrator.scheduling.calling_hours.schemas import CONTACT_TIMEZONE, DAYS, CallingHoursIn

VALID_NUMBERS_BASE = 14155550000


def make_org(session: Session, *, name: str = "acme", concurrency_limit: int = 10) -> CreatedOrg:
    return create_org(session, name=name, concurrency_limit=concurrency_limit)


AREA_CODES = ("415", "650", "212", "312", "617", "206", "303", "512", "702", "808")


def customer_numbers(count: int, *, start: int = 0) -> list[str]:
    """Distinct, valid US numbers in E.164, deterministic for a given ``start``."""
    numbers = []
    for i in range(start, start + count):
        area = AREA_CODES[(i // 10000) % len(AREA_CODES)]
        numbers.append(f"+1{area}555{i % 10000:04d}")
    return numbers


def campaign_body(
    *, customers: int | list[dict[str, Any]] = 3, phone_number_id: str = "phone-1", **extra: Any
) -> dict[str, Any]:
    if isinstance(customers, int):
        customers = [{"number": n} for n in customer_numbers(customers)]
    body: dict[str, Any] = {
        "name": "Spring reminders",
        "assistantId": "assistant-1",
        "phoneNumberId": phone_number_id,
        "customers": customers,
    }
    body.update(extra)
    return body


def make_campaign(session: Session, *, org: CreatedOrg, **body: Any) -> uuid.UUID:
    """A campaign created through the service, as ``POST /campaign`` would."""
    from orchestrator.campaigns.schemas import CreateCampaignIn
    from orchestrator.campaigns.service import create_campaign

    customers = body.pop("customers", 3)
    payload = campaign_body(customers=customers, **body)
    created = create_campaign(
        session, org_id=org.org_id, body=CreateCampaignIn.model_validate(payload)
    )
    return uuid.UUID(created["id"])


def calling_window(start: str, end: str, days: list[str] | None = None) -> dict[str, Any]:
    """One ``callingHours`` window, every day unless ``days`` says otherwise."""
    return {"days": list(DAYS) if days is None else days, "start": start, "end": end}


def calling_hours(
    *windows: dict[str, Any], timezone: str = CONTACT_TIMEZONE, fallback: str = "UTC"
) -> CallingHoursIn:
    """A ``callingHours`` policy of ``windows``, as a campaign would bring it."""
    return CallingHoursIn.model_validate(
        {"windows": list(windows), "timezone": timezone, "fallbackTimezone": fallback}
    )


class RecordedTasks(TaskQueue):
    """The tasks the code under test sent, by name and arguments, kept instead of sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[str, ...]]] = []

    def send(self, name: str, *args: str) -> None:
        self.sent.append((name, args))

    def dispatched_orgs(self) -> list[uuid.UUID]:
        return [uuid.UUID(args[0]) for name, args in self.sent if name == DISPATCH_ORG]


def unit_of(session: Session) -> UnitOfWork:
    """A flow's unit of work inside the test's transaction: its commits become savepoints."""

    @contextmanager
    def unit() -> Iterator[Session]:
        yield session
        session.commit()

    return unit
