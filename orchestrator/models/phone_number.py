from __future__ import annotations

import uuid

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.models.base import Base, Timestamped, new_id


class PhoneNumber(Timestamped, Base):
    """A provider phone number id as used by one org, with its pacing."""

    __tablename__ = "phone_numbers"
    __table_args__ = (UniqueConstraint("org_id", "provider_phone_number_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    provider_phone_number_id: Mapped[str] = mapped_column(String(200))
    calls_per_second: Mapped[float | None] = mapped_column(Float)
    max_concurrency: Mapped[int | None] = mapped_column(Integer)
    # Texts per second from this number (NULL: the default, 1), across every worker.
    messages_per_second: Mapped[float | None] = mapped_column(Float)
