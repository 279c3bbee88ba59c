"""The call engine is idle only once every call has played out and its webhooks went out:
what a drained simulator has sent is all it will send."""

from __future__ import annotations

from orchestrator.simulator.outcomes import BUSY
from tests.support.simulators import drain, find_number, outcome, running
from tests.support.webhook_receiver import WebhookReceiver

STEADY = "steady"


def test_idle_once_every_call_played_out_and_its_webhooks_went_out(
    receiver: WebhookReceiver,
) -> None:
    number = find_number(
        lambda n: (
            outcome(n, STEADY).ended_reason == BUSY and 1.0 < outcome(n, STEADY).ring_seconds < 2
        )
    )
    with running(None, profile=STEADY) as sim:
        assert sim.simulator is not None
        engine = sim.simulator.engine
        assert engine.idle
        call_id = sim.create(number, receiver.server())
        assert not engine.idle, "still ringing, for a second at least"
        drain(sim.simulator)
        assert engine.idle
        assert [m.kind for m in receiver.for_call(call_id)] == [
            ("status-update", "ringing"),
            ("status-update", "ended"),
            ("end-of-call-report", None),
        ]
        assert sim.stats()["webhooksSent"] == 3


def test_a_forgotten_call_leaves_nothing_playing() -> None:
    number = find_number(lambda n: outcome(n, STEADY).ring_seconds > 1.0)
    with running(None, profile=STEADY) as sim:
        assert sim.simulator is not None
        call_id = sim.create(number)
        assert not sim.simulator.engine.idle
        assert sim.forget({"ids": [call_id]}).json() == {"forgotten": [call_id]}
        assert sim.simulator.engine.idle
