"""Which end-of-call reports are opt-outs: the campaign's plan, else the org's."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.policy.schemas import OptOutPlanIn
from orchestrator.suppression.opt_outs import is_opt_out, plan_of

BY_KEY = {"structuredDataKey": "optOut"}
BY_REASON = {"endedReasons": ["customer-busy"]}


def _plan(raw: dict[str, Any]) -> OptOutPlanIn:
    return OptOutPlanIn.model_validate(raw)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", False), (1, False), (None, False)],
)
def test_only_a_true_value_under_the_key_is_an_opt_out(value: object, expected: bool) -> None:
    analysis = {"structuredData": {"optOut": value}, "summary": "Asked to stop."}
    assert is_opt_out(_plan(BY_KEY), ended_reason="customer-ended-call", analysis=analysis) is (
        expected
    )


def test_an_ended_reason_of_the_plan_is_an_opt_out_whatever_the_analysis() -> None:
    plan = _plan({**BY_KEY, **BY_REASON})
    assert is_opt_out(plan, ended_reason="customer-busy", analysis=None)
    assert not is_opt_out(plan, ended_reason="voicemail", analysis={"structuredData": []})
    assert not is_opt_out(_plan(BY_REASON), ended_reason=None, analysis=None)


def test_the_campaigns_plan_wins_over_the_orgs() -> None:
    org_policy = {"optOutPlan": BY_REASON, "frequencyCaps": []}
    assert plan_of({"optOutPlan": BY_KEY}, org_policy) == _plan(BY_KEY)
    assert plan_of({"retryPlan": {"maxAttempts": 2}}, org_policy) == _plan(BY_REASON)
    assert plan_of(None, {}) is None
    assert plan_of({"optOutPlan": {"structuredDataKey": ""}}, org_policy) is None, "unreadable"
