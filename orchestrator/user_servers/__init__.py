"""Requests to the user's own servers: a campaign's ``server`` (pre-dial checks, events out).

Everything here treats the URL as hostile input: only http(s), never a loopback, private or
link-local address unless ``ORCH_ALLOW_PRIVATE_SERVER_URLS`` allows it (checked when the URL
is given, and again against the addresses the name resolves to when a request is sent),
never a redirect, a bounded answer and a bounded wait.
"""
