"""Calling hours: contacts are dialed only while their local time is inside a weekly window.

A campaign's ``callingHours`` lists windows of local wall-clock time. With ``"timezone":
"contact"`` each contact is judged in its own zone: the customer's ``timezone`` when given, else
the zones that phonenumbers assigns to the number's region, else the campaign's
``fallbackTimezone``. A number whose region spans several zones is dialed only while the window
is open in every one of them.

A contact's zones are fixed once, at creation, as a *zone key*: zone names joined with ``,``
(``""`` when unknown). The dispatcher groups contacts by key and asks whether each key is open.

``schemas``: the ``callingHours`` field. ``zone_key``: a contact's key, from its number or its
own zone (``pattern_depth`` proves when one phonenumbers answer serves a whole prefix).
``opening``: whether a key is open at an instant, and when it next opens or closes.

Everything outside this package works in aware UTC; local time exists only in ``opening``.
"""
