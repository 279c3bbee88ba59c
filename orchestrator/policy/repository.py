"""Reading and writing an org's policy (``orgs.policy``)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from orchestrator.clock import utcnow
from orchestrator.models import Org


def get_org(session: Session, *, org_id: uuid.UUID) -> Org | None:
    return session.get(Org, org_id)


def store_policy(session: Session, *, org_id: uuid.UUID, policy: dict[str, Any]) -> None:
    session.execute(
        update(Org)
        .where(Org.id == org_id)
        .values(policy=policy, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
