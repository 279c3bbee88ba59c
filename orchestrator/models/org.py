from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy import Boolean, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB
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
    # The org's compliance policy as ``PUT /policy`` stored it (see orchestrator.policy):
    # frequency caps, the default calling-hours profile, the opt-out plan.
    policy: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
