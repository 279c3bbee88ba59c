"""``orchestrator demo``: one campaign end to end on a fresh stack, through the public HTTP API.

It starts everything ``up`` starts, posts a campaign like any API client would, watches
``GET /campaign/{id}`` until the campaign ends and prints what happened, including a check that
the campaign's counters equal a recount of its ``calls`` map.

``campaign``: the campaign it posts. ``api``: its requests. ``watch``: the live view while the
campaign runs. ``report``: what it prints at the end. ``logs``: where the processes' output
goes. ``command``: the command itself, which ends the campaign if it stops watching early.
"""
