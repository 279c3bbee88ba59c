"""Calling hours: contacts are dialed only while their local time is inside a weekly window.

A campaign's ``callingHours`` lists windows of local wall-clock time, names a legal profile
(``us-tcpa``), or both: then the windows narrow the profile. With ``"timezone": "contact"``
each contact is judged in its own zone: the customer's ``timezone`` when given, else the zones
that phonenumbers assigns to the number's region, else the campaign's ``fallbackTimezone``. A
number whose region spans several zones is dialed only while the window is open in every one
of them. A profile is always judged in the contact's own zones.

A contact's zones are fixed once, at creation, as a *zone key*: zone names joined with ``,``
(``""`` when unknown), then ``|`` and the US state of the number's area code when it has one
(``"|FL"``: a Florida number in no zone, judged in Florida's zones; ``"|*"``: a non-geographic
US number, anywhere in the 50 states and DC). A profile judges a key with no zones in every
zone it may be in, never in the fallback zone.
The dispatcher groups contacts by key and asks whether each key is open.

``schemas``: the ``callingHours`` field. ``zone_key``: a contact's key, from its number or its
own zone (``pattern_depth`` proves when one phonenumbers answer serves a whole prefix;
``us_states`` gives the state). ``profiles``: what a profile requires of a key, from the rule
table ``us_state_rules.toml`` (read by ``state_rules``; holidays as date rules in
``holiday_dates``), and the per-subject attempt caps it imposes (``subject_caps``).
``conditions``: the timetables everything comes down to. ``opening``: whether a key is open at
an instant, and when it next opens or closes.

Everything outside this package works in aware UTC; local time exists only in ``opening``.
"""
