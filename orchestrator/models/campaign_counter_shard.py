"""A campaign's counters, spread over shard rows so concurrent changes rarely wait on each other.

Each row holds a share of every counter of one campaign; a counter's value is the sum over the
campaign's rows (a share may be negative, the sum never is). A transaction adds its deltas to
one row with ``INSERT ... ON CONFLICT DO UPDATE``, so transactions of one campaign wait for
each other only when they happen to pick the same row, and never for the campaign row.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, SmallInteger, text
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.models.base import Base

# Rows per campaign at most: the spread of concurrent writers (see ``bump_counters``).
COUNTER_SHARDS = 16

COUNTER_COLUMNS = (
    "calls_counter_scheduled",
    "calls_counter_queued",
    "calls_counter_in_progress",
    "calls_counter_ended",
    "calls_counter_ended_voicemail",
    "contacts_pending",
    "contacts_dispatched",
    "contacts_completed",
    "contacts_failed",
    "contacts_skipped",
    "contacts_predial_failed",
)


def _counter() -> Mapped[int]:
    return mapped_column(BigInteger, default=0, server_default=text("0"))


class CampaignCounterShard(Base):
    __tablename__ = "campaign_counter_shards"

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    calls_counter_scheduled: Mapped[int] = _counter()
    calls_counter_queued: Mapped[int] = _counter()
    calls_counter_in_progress: Mapped[int] = _counter()
    calls_counter_ended: Mapped[int] = _counter()
    calls_counter_ended_voicemail: Mapped[int] = _counter()
    contacts_pending: Mapped[int] = _counter()
    contacts_dispatched: Mapped[int] = _counter()
    contacts_completed: Mapped[int] = _counter()
    contacts_failed: Mapped[int] = _counter()
    contacts_skipped: Mapped[int] = _counter()
    contacts_predial_failed: Mapped[int] = _counter()


@dataclass(frozen=True)
class CampaignCounters:
    """A campaign's counters at one moment: the sums over its shard rows."""

    calls_counter_scheduled: int = 0
    calls_counter_queued: int = 0
    calls_counter_in_progress: int = 0
    calls_counter_ended: int = 0
    calls_counter_ended_voicemail: int = 0
    contacts_pending: int = 0
    contacts_dispatched: int = 0
    contacts_completed: int = 0
    contacts_failed: int = 0
    contacts_skipped: int = 0
    contacts_predial_failed: int = 0

    @classmethod
    def from_values(cls, values: Any) -> CampaignCounters:
        """From a sequence in ``COUNTER_COLUMNS`` order (a result row's sums)."""
        return cls(*(int(value or 0) for value in values))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


assert tuple(f.name for f in fields(CampaignCounters)) == COUNTER_COLUMNS
