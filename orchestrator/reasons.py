"""The reasons we give ourselves: a call's ``endedReason`` when we end it, and a contact's
``status_reason`` when we close it without a call.

Vapi's own ``endedReason`` values and their categories are in ``calls/ended_reasons.tsv``;
the ones here are those the orchestrator sets (one reuses Vapi's value that says the same
thing). A reason's category there decides whether it completes a contact; one of ours that
is not listed fails it.
"""

from __future__ import annotations

# --- a call's endedReason, and the endedMessage that goes with it -----------------------------

# The campaign was ended or cancelled by the user before the call was sent. Also the
# ``status_reason`` of the contacts it skipped.
CAMPAIGN_STOPPED = "campaign-ended-by-user"
CAMPAIGN_STOPPED_MESSAGE = "campaign stopped before the call was placed"
# ``schedulePlan.latestAt`` came before the call was sent. Also the ``status_reason`` of
# the contacts the closing window skipped.
WINDOW_CLOSED = "schedule-plan-latest-at-reached"
WINDOW_CLOSED_MESSAGE = "schedulePlan.latestAt was reached before the call could be placed"
# Vapi's value for a scheduled call deleted by its owner: ``DELETE /call/{id}`` before it left.
SCHEDULED_CALL_DELETED = "scheduled-call-deleted"
SCHEDULED_CALL_DELETED_MESSAGE = "deleted before it was placed"
# The provider refused the create (a 4xx other than 429); the message is the provider's own.
PROVIDER_REJECTED = "provider-rejected"
# The provider twice answered 404 for a call it had acknowledged (category ``provider-lost``).
# Nobody knows whether the customer was reached, so it fails the contact unless a retry plan
# names it.
PROVIDER_CALL_NOT_FOUND = "provider-call-not-found"

# --- the compliance gate: why a call was never sent, and its contact's status_reason -------

# The customer's number is on the org's suppression list.
SUPPRESSED = "suppressed"
SUPPRESSED_MESSAGE = "the customer's number is on the suppression list"
# The org's frequency caps allow no attempt to the number before the window's end.
FREQUENCY_CAP = "frequency-cap"
FREQUENCY_CAP_MESSAGE = "the frequency caps allow no attempt to the number before latestAt"

# --- a contact's status_reason when it ends without a call ---------------------------------

# The campaign's pre-dial server answered ``{"eligible": false}`` for the attempt.
PREDIAL_NOT_ELIGIBLE = "predial-not-eligible"
# The pre-dial check failed (an error, a timeout, an answer that is not a verdict): the
# contact is ``predial-failed``.
PREDIAL_ERROR = "predial-error"

# --- an outbound text's delivery reason --------------------------------------------------------

# ``DELETE /chat/{id}`` withdrew a text before it was sent.
TEXT_DELETED = "deleted before it was sent"
# ``DELETE /session/{id}`` withdrew the texts still waiting in it.
TEXT_SESSION_DELETED = "its session was deleted before it was sent"
# The ``status_reason`` of a campaign's contact whose text the user deleted (``DELETE
# /chat/{id}``, or ``DELETE /session/{id}`` of its session) before it was sent: skipped, as
# the user chose (its v2 ``skipReason`` is ``ended-by-user``).
TEXT_WITHDRAWN_BY_USER = "text-deleted-by-user"
