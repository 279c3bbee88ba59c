"""What a pre-dial answer says, and what each plan does with it."""

from __future__ import annotations

import pytest

from orchestrator.predial.plan import OnError, PredialPlan
from orchestrator.predial.verdicts import Outcome, Verdict, VerdictKind, outcome_of, verdict_of
from orchestrator.user_servers.sending import ServerAnswer

K = VerdictKind


def answered(body: bytes, status: int = 200) -> ServerAnswer:
    return ServerAnswer(status_code=status, body=body)


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (answered(b'{"eligible": true}'), K.ELIGIBLE),
        (answered(b'{"eligible": false}'), K.NOT_ELIGIBLE),
        (answered(b'{"eligible": true, "reason": "ok"}', status=201), K.ELIGIBLE),
        (answered(b'{"eligible": "true"}'), K.ERROR),
        (answered(b'{"eligible": 1}'), K.ERROR),
        (answered(b'{"eligible": 0}'), K.ERROR),
        (answered(b'{"eligible": null}'), K.ERROR),
        (answered(b"{}"), K.ERROR),
        (answered(b"[true]"), K.ERROR),
        (answered(b"true"), K.ERROR),
        (answered(b""), K.ERROR),
        (answered(b"\xff\xfe garbage"), K.ERROR),
        (answered(b"<html><body>Bad gateway</body></html>"), K.ERROR),
        (answered(b'{"eligible": true}', status=500), K.ERROR),
        (answered(b'{"eligible": false}', status=302), K.ERROR),
        (ServerAnswer(error="no answer within 1 s"), K.ERROR),
    ],
    ids=repr,
)
def test_only_a_2xx_json_boolean_is_a_verdict(answer: ServerAnswer, kind: VerdictKind) -> None:
    assert verdict_of(answer).kind == kind


def test_an_error_says_what_went_wrong() -> None:
    assert verdict_of(answered(b"{}", status=503)).error == "answered 503"
    assert verdict_of(ServerAnswer(error="no answer within 2 s")).error == "no answer within 2 s"
    assert verdict_of(answered(b"<html>")).error == "the answer is not JSON"
    no_boolean = verdict_of(answered(b'{"eligible": "yes"}'))
    assert no_boolean.error == "the answer has no boolean eligible"
    assert verdict_of(answered(b'{"eligible": true}')).error is None


def plan(on_error: OnError, retries: int = 2) -> PredialPlan:
    return PredialPlan(url="http://example.com", on_error=on_error, max_error_retries=retries)


ELIGIBLE = Verdict(K.ELIGIBLE)
REFUSED = Verdict(K.NOT_ELIGIBLE)
ERROR = Verdict(K.ERROR, "answered 500")


@pytest.mark.parametrize("on_error", list(OnError))
def test_a_verdict_decides_whatever_the_plan_does_on_error(on_error: OnError) -> None:
    assert outcome_of(ELIGIBLE, plan=plan(on_error), errors_so_far=0) == Outcome.CLEARED
    assert outcome_of(REFUSED, plan=plan(on_error), errors_so_far=5) == Outcome.REFUSED


@pytest.mark.parametrize(
    ("on_error", "errors_so_far", "outcome"),
    [
        (OnError.FAIL, 0, Outcome.FAILED),
        (OnError.DIAL, 0, Outcome.CLEARED),
        (OnError.DIAL, 9, Outcome.CLEARED),
        (OnError.RETRY, 0, Outcome.RETRY_LATER),
        (OnError.RETRY, 1, Outcome.RETRY_LATER),
        (OnError.RETRY, 2, Outcome.FAILED),
    ],
)
def test_an_error_does_what_the_plan_says_a_bounded_number_of_times(
    on_error: OnError, errors_so_far: int, outcome: Outcome
) -> None:
    assert outcome_of(ERROR, plan=plan(on_error), errors_so_far=errors_so_far) == outcome


def test_no_retries_allowed_fails_at_once() -> None:
    assert outcome_of(ERROR, plan=plan(OnError.RETRY, retries=0), errors_so_far=0) == (
        Outcome.FAILED
    )
