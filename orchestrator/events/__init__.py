"""Campaign events to the campaign's own server (``server.url``): recorded in the transaction
of the change they report (an outbox), numbered per campaign, delivered at least once, signed
with the org's secret, retried with backoff, kept when they fail and redeliverable."""
