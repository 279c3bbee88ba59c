from __future__ import annotations

import secrets
import uuid

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.models.base import Base, Timestamped, new_id

SIGNING_SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def new_signing_secret() -> str:
    return SIGNING_SECRET_PREFIX + secrets.token_hex(32)


class Org(Timestamped, Base):
    __tablename__ = "orgs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    concurrency_limit: Mapped[int] = mapped_column(Integer, default=10)
    # The documented default calling-hours policy (08:00-21:00 in the contact's local time)
    # applies to this org's campaigns that set no ``callingHours`` of their own.
    default_calling_hours: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="false"
    )
    # The key campaign events to the org's servers are signed with (HMAC-SHA256). Kept as is:
    # signing needs the key itself. Shown once, at creation or rotation; never logged.
    signing_secret: Mapped[str] = mapped_column(String(100), default=new_signing_secret)
