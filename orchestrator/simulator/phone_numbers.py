"""The phone numbers the simulator knows, served as Vapi's ``VapiPhoneNumber``.

A number is known from the first ``POST /call`` that names its id as ``phoneNumberId`` (it was
created then), or from the start: ``SimulatorConfig.phone_numbers`` (``--phone-numbers``) lists
ids, each optionally with its digits, ``ID`` or ``ID=+E164``, and optionally ``:nosms`` after
either (``line-2=+447700900123:nosms``): a number that cannot send texts (``smsEnabled`` false;
``POST /chat`` refuses it; Vapi's ``VapiPhoneNumber`` has no such field, so it is not shown).
A number whose digits nobody gave gets fictional ones derived from its id (``+1 NPA 555-01XX``),
the same in every run.

In the journal (see ``journal``) a number is ``{"id", "number", "createdAt", "updatedAt"}``,
plus ``"smsEnabled": false`` for one that cannot text, times in Unix epoch milliseconds.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator.simulator.records import from_ms, iso, to_ms

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
MAX_ID_LENGTH = 200
MAX_LIST_LIMIT = 1000
NO_SMS = ":nosms"


class PhoneNumberSpecError(ValueError):
    """A ``--phone-numbers`` spec that does not parse; the message names every problem."""


def parse_phone_numbers(specs: tuple[str, ...] | list[str]) -> dict[str, str | None]:
    """``ID`` or ``ID=+E164`` items (comma-separated lists allowed) as {id: digits or None}."""
    numbers: dict[str, str | None] = {}
    problems: list[str] = []
    for item in (part.strip().removesuffix(NO_SMS) for spec in specs for part in spec.split(",")):
        if not item:
            continue
        phone_id, _, digits = (piece.strip() for piece in item.partition("="))
        if not phone_id or len(phone_id) > MAX_ID_LENGTH or any(c.isspace() for c in phone_id):
            problems.append(f"{item!r}: the id must be 1-{MAX_ID_LENGTH} characters, no spaces")
        elif digits and not E164.match(digits):
            problems.append(f"{item!r}: the number must be E.164, like +14155550123")
        else:
            numbers[phone_id] = digits or None
    if problems:
        raise PhoneNumberSpecError("; ".join(problems))
    return numbers


def sms_disabled(specs: tuple[str, ...] | list[str]) -> frozenset[str]:
    """The ids of the ``--phone-numbers`` items flagged ``:nosms``."""
    items = (part.strip() for spec in specs for part in spec.split(","))
    return frozenset(
        item.removesuffix(NO_SMS).partition("=")[0].strip()
        for item in items
        if item.endswith(NO_SMS)
    )


def derived_number(phone_id: str) -> str:
    """Fictional digits for ``phone_id``: an area code and 555-0100..0199, from its hash."""
    value = int.from_bytes(hashlib.sha256(phone_id.encode()).digest()[:8], "big")
    area_code = 200 + value % 800
    return f"+1{area_code}55501{value // 800 % 100:02d}"


@dataclass(slots=True)
class PhoneNumberRecord:
    id: str
    number: str
    created_at: datetime
    updated_at: datetime
    sms_enabled: bool = True

    def to_json(self, org_id: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "orgId": org_id,
            "provider": "vapi",
            "number": self.number,
            "status": "active",
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
        }

    def to_journal(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "id": self.id,
            "number": self.number,
            "createdAt": to_ms(self.created_at),
            "updatedAt": to_ms(self.updated_at),
        }
        if not self.sms_enabled:
            line["smsEnabled"] = False
        return line

    @classmethod
    def from_journal(cls, data: dict[str, Any]) -> PhoneNumberRecord:
        return cls(
            id=str(data["id"]),
            number=str(data["number"]),
            created_at=from_ms(int(data["createdAt"])),
            updated_at=from_ms(int(data["updatedAt"])),
            sms_enabled=data.get("smsEnabled", True) is not False,
        )


class PhoneNumberQuery(BaseModel):
    """Vapi's ``GET /phone-number`` filters: ``limit`` and the createdAt/updatedAt bounds."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    limit: int = Field(100, ge=0, le=MAX_LIST_LIMIT)
    created_at_gt: datetime | None = Field(None, alias="createdAtGt")
    created_at_lt: datetime | None = Field(None, alias="createdAtLt")
    created_at_ge: datetime | None = Field(None, alias="createdAtGe")
    created_at_le: datetime | None = Field(None, alias="createdAtLe")
    updated_at_gt: datetime | None = Field(None, alias="updatedAtGt")
    updated_at_lt: datetime | None = Field(None, alias="updatedAtLt")
    updated_at_ge: datetime | None = Field(None, alias="updatedAtGe")
    updated_at_le: datetime | None = Field(None, alias="updatedAtLe")

    @field_validator("*", mode="after")
    @classmethod
    def _utc(cls, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    def matches(self, record: PhoneNumberRecord) -> bool:
        for column in ("created_at", "updated_at"):
            stamp: datetime = getattr(record, column)
            for op in ("gt", "lt", "ge", "le"):
                bound = getattr(self, f"{column}_{op}")
                if bound is not None and not getattr(stamp, f"__{op}__")(bound):
                    return False
        return True
