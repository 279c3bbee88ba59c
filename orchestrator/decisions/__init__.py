"""Each contact's decision history: what the scheduler and the gate decided about it, and why.

A decision is a row of ``contact_decisions`` written in the transaction that takes it, so the
history never tells of a decision that was rolled back. ``recording`` is what the deciding
code calls (set-based: a batch, or a million closed contacts, is one statement); a deferral is
recorded only when the contact's reason to wait (``Contact.deferral``) changes, so a contact
waiting a night under closed calling hours adds one row, not one per tick. ``service``,
``wire`` and ``endpoints`` serve ``GET /v2/campaign/{id}/contacts/{contactId}``.
"""
