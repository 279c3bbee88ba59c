"""When a contact whose call attempt has ended is dialled again, and after how long.

A campaign may carry a ``retryPlan`` extension naming the ``endedReason`` values (or their
categories from ``ended_reasons.tsv``) worth another attempt, how many attempts a contact gets
and how the delay between them grows. Independently of any plan, an attempt that failed for a
passing provider or telephony problem (a *transient* failure: the customer was never really
reached) is retried a few times quickly, and such attempts do not use up the plan's attempts.

Counting, for one contact: an attempt is a *plan attempt* unless it was one of the first
:data:`TRANSIENT_RETRY_CAP` transient failures. ``maxAttempts`` bounds plan attempts, so a
contact is dialled at most ``maxAttempts + TRANSIENT_RETRY_CAP`` times in all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from orchestrator.calls.ended_reasons import ended_reason_table
from orchestrator.wire import CAMEL_MODEL_CONFIG

RETRY_PLAN_EXTENSION = "retryPlan"
MAX_ATTEMPTS_LIMIT = 20
MAX_RETRY_ON_ENTRIES = 200
MAX_DELAY_LIMIT_SECONDS = 30 * 86400
DEFAULT_RETRY_ON = ("no-answer", "busy")

TRANSIENT_RETRY_CAP = 3
TRANSIENT_BASE_DELAY_SECONDS = 5.0
TRANSIENT_MAX_DELAY_SECONDS = 300.0
TRANSIENT_HINTS = frozenset({"retry-soon", "retry-after-backoff"})


def base_category(category: str) -> str:
    """``no-answer(sip-480)`` -> ``no-answer``: the table qualifies some categories."""
    return category.split("(", 1)[0]


@lru_cache(maxsize=1)
def known_retry_on_entries() -> frozenset[str]:
    """Every value ``retryOn`` accepts: reasons, categories and unqualified categories."""
    table = ended_reason_table()
    categories = {category for category, _hint in table.values()}
    return frozenset(table) | categories | {base_category(c) for c in categories}


def _known_entry(entry: str) -> str:
    if entry not in known_retry_on_entries():
        raise PydanticCustomError("retry_on_entry", "must be a known endedReason or category")
    return entry


# Checked per item so the error's location carries the entry's index (``retryOn.2``).
RetryOnEntry = Annotated[str, AfterValidator(_known_entry)]


class RetryPlanIn(BaseModel):
    """The ``retryPlan`` extension of a campaign."""

    model_config = CAMEL_MODEL_CONFIG

    max_attempts: int = Field(alias="maxAttempts", ge=1, le=MAX_ATTEMPTS_LIMIT)
    retry_on: list[RetryOnEntry] = Field(
        default_factory=lambda: list(DEFAULT_RETRY_ON), alias="retryOn"
    )
    delay_seconds: float = Field(300.0, alias="delaySeconds", ge=0, le=MAX_DELAY_LIMIT_SECONDS)
    backoff_multiplier: float = Field(1.0, alias="backoffMultiplier", ge=1, le=10)
    max_delay_seconds: float | None = Field(
        None, alias="maxDelaySeconds", ge=0, le=MAX_DELAY_LIMIT_SECONDS
    )

    @field_validator("retry_on", mode="before")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        # Before item validation, so an oversized list is refused without walking it.
        if isinstance(value, list) and len(value) > MAX_RETRY_ON_ENTRIES:
            raise PydanticCustomError(
                "array_max_size",
                "must contain no more than {max} elements",
                {"max": MAX_RETRY_ON_ENTRIES},
            )
        return value

    @field_validator("retry_on")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for entry in value:
            if entry in seen:
                raise PydanticCustomError(
                    "array_unique", "must not contain {entry} more than once", {"entry": entry}
                )
            seen.add(entry)
        return value


@dataclass(frozen=True)
class RetryDecision:
    """What to do with a contact whose call attempt has just ended."""

    retry: bool
    delay_seconds: float
    transient: bool
    reason: str


def _stop(reason: str) -> RetryDecision:
    return RetryDecision(retry=False, delay_seconds=0.0, transient=False, reason=reason)


def is_transient(ended_reason: str | None) -> bool:
    """True when the call failed for a passing provider or telephony problem."""
    row = ended_reason_table().get(ended_reason or "")
    return row is not None and row[1] in TRANSIENT_HINTS


def _listed(plan: RetryPlanIn, *, ended_reason: str) -> bool:
    category = ended_reason_table()[ended_reason][0]
    wanted = set(plan.retry_on)
    return bool({ended_reason, category, base_category(category)} & wanted)


def _plan_delay(plan: RetryPlanIn, *, plan_attempts_made: int) -> float:
    delay = plan.delay_seconds * plan.backoff_multiplier ** (plan_attempts_made - 1)
    if plan.max_delay_seconds is not None:
        return min(delay, plan.max_delay_seconds)
    return delay


def _transient_delay(*, transient_failures: int) -> float:
    delay = TRANSIENT_BASE_DELAY_SECONDS * 2.0**transient_failures
    return min(delay, TRANSIENT_MAX_DELAY_SECONDS)


def _check_counts(*, attempts_made: int, transient_failures: int) -> None:
    if attempts_made < 1:
        raise ValueError(f"attempts_made must be at least 1, not {attempts_made}")
    if not 0 <= transient_failures < attempts_made:
        raise ValueError(
            f"transient_failures must be in [0, {attempts_made}), not {transient_failures}"
        )


def _decide_by_plan(
    plan: RetryPlanIn | None, *, ended_reason: str, plan_attempts_made: int, transient: bool
) -> RetryDecision:
    if not (plan is not None and _listed(plan, ended_reason=ended_reason)):
        # A transient failure lands here only once its own retries are spent.
        if transient:
            return _stop("transient-cap-reached")
        return _stop("no-retry-plan" if plan is None else "not-retryable")
    if plan_attempts_made >= plan.max_attempts:
        return _stop("max-attempts-reached")
    delay = _plan_delay(plan, plan_attempts_made=plan_attempts_made)
    return RetryDecision(retry=True, delay_seconds=delay, transient=False, reason="retry-plan")


def decide_retry(
    plan: RetryPlanIn | None,
    *,
    ended_reason: str | None,
    attempts_made: int,
    transient_failures: int,
) -> RetryDecision:
    """Whether to dial the contact again after the attempt that just ended.

    ``attempts_made`` counts this attempt; ``transient_failures`` counts the earlier attempts
    of the contact that failed transiently, not this one. A contact-completing reason (a
    person or voicemail answered) is retried only when ``retryOn`` names it or its category:
    the default ``retryOn`` names neither.
    """
    _check_counts(attempts_made=attempts_made, transient_failures=transient_failures)
    if ended_reason is None or ended_reason not in ended_reason_table():
        return _stop("unknown-ended-reason")
    transient = is_transient(ended_reason)
    if transient and transient_failures < TRANSIENT_RETRY_CAP:
        delay = _transient_delay(transient_failures=transient_failures)
        return RetryDecision(retry=True, delay_seconds=delay, transient=True, reason="transient")
    # Transient failures past the cap are plan attempts, this one included.
    plan_attempts_made = attempts_made - min(transient_failures, TRANSIENT_RETRY_CAP)
    return _decide_by_plan(
        plan, ended_reason=ended_reason, plan_attempts_made=plan_attempts_made, transient=transient
    )


def plan_from_extensions(extensions: Mapping[str, Any] | None) -> RetryPlanIn | None:
    """The campaign's plan from its stored extensions (``model_dump(by_alias=True)`` form)."""
    if not extensions:
        return None
    stored = extensions.get(RETRY_PLAN_EXTENSION)
    if stored is None:
        return None
    return RetryPlanIn.model_validate(stored)
