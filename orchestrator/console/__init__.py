"""Commands for operators that speak to a running API over HTTP (``orchestrator campaign``)."""
