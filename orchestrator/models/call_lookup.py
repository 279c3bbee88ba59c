from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.models.base import Base


class CallLookup(Base):
    """What the recovery sweep knows of asking the provider about one call in flight.

    A call gets a row when the sweep first asks about it (or when the API starts and every
    call in flight is to be asked about soon); a row of a call that has ended is deleted by
    the sweep. ``checked_at`` is when the sweep last took the call: news of the call after it
    (its ``updated_at`` later) start its silence over.
    """

    __tablename__ = "call_lookups"

    call_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
    )
    next_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Lookups that failed in a row (timeouts, 5xx...): the backoff grows with them.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # The first of the 404s in a row: a second one a minute later ends the call.
    not_found_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The wait before the latest lookup that found the call live (doubles each time).
    wait_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    last_error: Mapped[str | None] = mapped_column(Text)
