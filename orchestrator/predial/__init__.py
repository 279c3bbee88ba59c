"""Pre-dial checks: the campaign's server is asked about each attempt before it is claimed.

``plan`` reads a campaign's plan, ``verdicts`` reads an answer, ``message`` builds the
question, ``selection`` picks the contacts to ask (from the scheduler's dispatch), and
``service`` starts a check and applies its verdict.
"""
