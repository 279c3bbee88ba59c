from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.models.base import Base

CALL_CHANNEL = "call"
SMS_CHANNEL = "sms"


class RecipientAttempt(Base):
    """One attempt to reach a number: counted against the org's frequency caps from the moment
    its create request was sent.

    ``campaign_id`` and ``call_id`` carry no foreign keys: an attempt keeps counting after its
    call row is deleted (``DELETE /call`` of an ended call) or its campaign is gone.
    """

    __tablename__ = "recipient_attempts"
    __table_args__ = (
        # "Attempts to this number in this org since T" (and per campaign): one index range per
        # number, read from the index alone.
        Index(
            "ix_recipient_attempts_number",
            "org_id",
            "number",
            "sent_at",
            postgresql_include=["campaign_id", "channel"],
        ),
        # One attempt per call: a call dialed again (its create was never made) replaces it.
        Index("ix_recipient_attempts_call_id", "call_id", unique=True),
        # The pruning of attempts older than any cap can look back.
        Index("ix_recipient_attempts_sent_at", "sent_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    # E.164, as the suppression list holds numbers.
    number: Mapped[str] = mapped_column(String(64))
    # The subject of per-campaign caps; NULL for a direct call (one subject per org).
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    call_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # ``call``, or ``sms`` for a text (``call_id`` then holds the chat's id).
    channel: Mapped[str] = mapped_column(String(10), default=CALL_CHANNEL)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
