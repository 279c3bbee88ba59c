"""Plain factory functions for test data, keyword-only after the session: one module per domain,
every function importable from here."""

from tests.factories.calling_hours import calling_hours, calling_window
from tests.factories.calls import (
    answer_call,
    calls_of_contact,
    claimed_call,
    claimed_direct_call,
    dialing_calls,
    direct_call,
    dispatch,
    dispatch_campaign,
    end_call,
    lookup_policy,
    placed_call,
    placed_calls,
)
from tests.factories.campaigns import (
    add_to_shard,
    at,
    campaign_body,
    campaign_drift,
    campaign_of,
    contact_statuses,
    force_campaign,
    force_counters,
    make_campaign,
    post_campaign,
    row_counts,
    start_campaign,
)
from tests.factories.contacts import contacts_of, customer_numbers
from tests.factories.decisions import campaign_decisions, decisions_of, kinds_of
from tests.factories.events import event_types, events_of, server_campaign
from tests.factories.flows import RecordedTasks, unit_of
from tests.factories.gate import attempts_to, record_attempt, set_caps
from tests.factories.orgs import make_org
from tests.factories.phone_numbers import fast_caller_number
from tests.factories.predial import dispatch_now, predial_campaign, run_checks
from tests.factories.provider_messages import report, status_update, webhook_outcomes, whole_call
from tests.factories.suppression import suppress, suppress_rows, suppression_entries

__all__ = [
    "RecordedTasks",
    "add_to_shard",
    "answer_call",
    "at",
    "attempts_to",
    "calling_hours",
    "calling_window",
    "calls_of_contact",
    "campaign_body",
    "campaign_decisions",
    "campaign_drift",
    "campaign_of",
    "claimed_call",
    "claimed_direct_call",
    "contact_statuses",
    "contacts_of",
    "customer_numbers",
    "decisions_of",
    "dialing_calls",
    "direct_call",
    "dispatch",
    "dispatch_campaign",
    "dispatch_now",
    "end_call",
    "event_types",
    "events_of",
    "fast_caller_number",
    "force_campaign",
    "force_counters",
    "kinds_of",
    "lookup_policy",
    "make_campaign",
    "make_org",
    "placed_call",
    "placed_calls",
    "post_campaign",
    "predial_campaign",
    "record_attempt",
    "report",
    "row_counts",
    "run_checks",
    "server_campaign",
    "set_caps",
    "start_campaign",
    "status_update",
    "suppress",
    "suppress_rows",
    "suppression_entries",
    "unit_of",
    "webhook_outcomes",
    "whole_call",
]
