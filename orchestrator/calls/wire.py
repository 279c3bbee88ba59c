"""Our call rows in Vapi's ``Call`` vocabulary."""

from __future__ import annotations

from orchestrator.models.enums import CallStatus


def vapi_status(status: CallStatus | str) -> str:
    """Before the provider has the call it is ``queued`` to the user; a refused create ``ended``."""
    if status in (CallStatus.CLAIMED, CallStatus.DIALING):
        return CallStatus.QUEUED.value
    if status == CallStatus.FAILED:
        return CallStatus.ENDED.value
    return str(status)
