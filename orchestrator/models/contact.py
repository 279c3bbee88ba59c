from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.clock import utcnow
from orchestrator.models.base import Base, Timestamped, new_id
from orchestrator.models.enums import ContactStatus

# Vapi's order of contact statuses (its enum's declaration order, a lifecycle), as a number:
# what ``GET /v2/campaign/{id}/contacts?sortBy=status`` sorts by. Literal SQL, so the query and
# the index below spell one expression, which the planner matches; spelled as Postgres prints
# it back, so comparing the models with the database finds the index unchanged.
STATUS_ORDER_SQL = (
    "(\nCASE status\n"
    + "".join(
        f"    WHEN '{status.value}' THEN {rank}\n" for rank, status in enumerate(ContactStatus)
    )
    + "    ELSE NULL\nEND)"
)


class Contact(Timestamped, Base):
    """One customer of one campaign: its place in dial order and the caller number to use."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("campaign_id", "dedupe_key", name="uq_contacts_campaign_dedupe"),
        # The claim reads one range of this index per (caller number, zone key) group, in
        # due order, and stops after a batch: a tick costs the same whatever the size of the
        # campaign, and contacts whose calling hours are closed are never even read.
        Index(
            "ix_contacts_due",
            "campaign_id",
            "phone_number_id",
            "zone_key",
            "not_before",
            "position",
            postgresql_where=text("status = 'pending'"),
        ),
        # The contacts listing reads a page through one index per sort, whatever the size of
        # the campaign: dial order (the status filter read from the index, not the table)...
        Index(
            "ix_contacts_campaign_position",
            "campaign_id",
            "position",
            unique=True,
            postgresql_include=["status"],
        ),
        # ... and Vapi's status order, then dial order (the status carried too: Postgres reads
        # an index alone only when every column the query names is in it).
        Index(
            "ix_contacts_campaign_status_order",
            "campaign_id",
            text(STATUS_ORDER_SQL),
            "position",
            postgresql_include=["status"],
        ),
        # Contacts of campaigns with pre-dial checks that are being checked or were cleared:
        # the claim of such a campaign reads only cleared ones, in due order, and the check
        # selection counts them; at most about ``maxConcurrency`` rows per campaign.
        Index(
            "ix_contacts_predial",
            "campaign_id",
            "phone_number_id",
            "zone_key",
            "not_before",
            "position",
            postgresql_where=text("status = 'pending' AND predial_state IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    phone_number_id: Mapped[str | None] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(64))
    dedupe_key: Mapped[str] = mapped_column(String(300))
    customer: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[ContactStatus] = mapped_column(String(20), default=ContactStatus.PENDING)
    status_reason: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Zone key for calling hours ("" when unknown; zones, then "|" and the US state if any):
    # see scheduling.calling_hours. Text: a number spanning many zones has a long key.
    zone_key: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Not dialed before this instant (retry delays); the tick reads it through ix_contacts_due.
    not_before: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    transient_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_ended_reason: Mapped[str | None] = mapped_column(String(200))
    # The pre-dial check of the attempt to come (see orchestrator.predial): NULL, not asked;
    # 'checking' until ``predial_lease_until`` (then it may be asked again); 'eligible',
    # cleared to be claimed until ``predial_lease_until``. The claim clears all three.
    predial_state: Mapped[str | None] = mapped_column(String(20))
    predial_lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Checks of the attempt to come that failed and were asked again (``onError: "retry"``).
    predial_errors: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The last verdict: {"attempt", "verdict": eligible | not-eligible | error, "error", "at"}.
    predial_verdict: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Why the contact is waiting now that it is due ("calling-hours", "frequency-cap",
    # "capacity"...), NULL when it is not held back: a deferral is recorded in
    # its decision history only when this changes, and the pacing insight counts by it.
    deferral: Mapped[str | None] = mapped_column(String(30))
