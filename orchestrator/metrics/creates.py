"""What a create sent to the provider counts: its outcome (whose rate is the dial rate) and,
for a call, how long the provider took to answer it."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence

from orchestrator.metrics.histograms import count_and_observe, count_many_and_observe
from orchestrator.metrics.service import count
from orchestrator.providers.errors import ProviderError, ProviderUnreachable

CALL_CREATES = "orchestrator_call_creates"
CALL_CREATE_SECONDS = "orchestrator_call_create_seconds"
TEXTS_SENT = "orchestrator_texts_sent"


def create_outcome(error: ProviderError | None) -> str:
    """accepted, ambiguous (the provider may have it), unreachable or refused (it has not)."""
    if error is None:
        return "accepted"
    if error.ambiguous:
        return "ambiguous"
    if isinstance(error, ProviderUnreachable):
        return "unreachable"
    return "refused"


def record_call_create(*, org_id: uuid.UUID, error: ProviderError | None, seconds: float) -> None:
    count_and_observe(
        CALL_CREATES,
        CALL_CREATE_SECONDS,
        max(seconds, 0.0),
        org=str(org_id),
        outcome=create_outcome(error),
    )


def record_call_creates(creates: Sequence[tuple[uuid.UUID, ProviderError | None, float]]) -> None:
    """``record_call_create`` of many creates ``(org, error, seconds)``, in one round trip."""
    if not creates:
        return
    counts: Counter[tuple[tuple[str, str], ...]] = Counter(
        (("org", str(org_id)), ("outcome", create_outcome(error))) for org_id, error, _ in creates
    )
    values = [max(seconds, 0.0) for _, _, seconds in creates]
    count_many_and_observe(CALL_CREATES, CALL_CREATE_SECONDS, counts, values)


def record_text_create(error: ProviderError | None) -> None:
    count(TEXTS_SENT, outcome=create_outcome(error))
